using System.Net;

namespace Kennel.Sandbox.Network;

/// <summary>How the worker gives sandboxes network, for sessions whose mode is <c>allowlist</c> or <c>open</c>.</summary>
public sealed record EgressOptions
{
    /// <summary>The DNS server (UDP) the proxy resolves sandboxes' names with; null for the system's resolver.</summary>
    public IPEndPoint? Resolver { get; init; }

    /// <summary>Private ranges an admin lets sandboxes reach, such as an internal package mirror's. Loopback and link-local never.</summary>
    public IReadOnlyList<IPNetwork> AllowedPrivateRanges { get; init; } = [];

    /// <summary>More addresses sandboxes never reach, such as the control plane's, besides every address of this machine.</summary>
    public IReadOnlyList<IPAddress> ForbiddenAddresses { get; init; } = [];

    /// <summary>
    /// The addresses of the veth pairs, a /30 per sandbox. They live only inside the egress namespace and the
    /// sandboxes' own, never on the host, so any range will do; a /16 holds 16,384 sandboxes at once.
    /// </summary>
    public IPNetwork VethRange { get; init; } = IPNetwork.Parse("10.213.0.0/16");

    /// <summary>How long the proxy waits for a name's addresses.</summary>
    public TimeSpan ResolveTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
