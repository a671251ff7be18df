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

    public const string ResolverVariable = "KENNEL_EGRESS_RESOLVER";
    public const string AllowVariable = "KENNEL_EGRESS_ALLOW_CIDRS";

    /// <summary>
    /// From <c>KENNEL_EGRESS_RESOLVER</c> (<c>address</c> or <c>address:port</c> of a DNS server) and
    /// <c>KENNEL_EGRESS_ALLOW_CIDRS</c> (private CIDRs, comma-separated). Null, and why, when one does not parse.
    /// </summary>
    public static EgressOptions? FromEnvironment(Func<string, string?> read, out string? error)
    {
        ArgumentNullException.ThrowIfNull(read);
        error = null;
        IPEndPoint? resolver = null;
        // A blank value counts as unset, as for every other KENNEL_ variable.
        if (read(ResolverVariable)?.Trim() is { Length: > 0 } text)
        {
            if (!IPEndPoint.TryParse(text, out resolver))
            {
                error = $"{ResolverVariable} must be a DNS server's address, optionally with a port (10.0.0.2 or 10.0.0.2:53), not '{text}'.";
                return null;
            }
            resolver = resolver.Port == 0 ? new IPEndPoint(resolver.Address, 53) : resolver;
        }
        var ranges = new List<IPNetwork>();
        foreach (var part in (read(AllowVariable) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!IPNetwork.TryParse(part, out var range))
            {
                error = $"{AllowVariable} must be CIDRs separated by commas, such as 10.20.0.0/16; '{part}' is not one.";
                return null;
            }
            ranges.Add(range);
        }
        return new EgressOptions { Resolver = resolver, AllowedPrivateRanges = ranges };
    }
}
