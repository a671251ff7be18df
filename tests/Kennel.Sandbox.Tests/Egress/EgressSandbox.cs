using System.Net;
using Kennel.Sandbox.Network;
using Kennel.Testing.Egress;

namespace Kennel.Sandbox.Tests.Egress;

/// <summary>A sandbox runtime whose egress resolves names with a test resolver and may reach a test internet.</summary>
public sealed class EgressSandbox : IDisposable
{
    public EgressSandbox()
    {
        Internet = new TestInternet();
        Resolver = new TestResolver(new Dictionary<string, IPAddress[]>(StringComparer.Ordinal)
        {
            ["allowed.test"] = [Internet.Address],
            ["plain.test"] = [Internet.Address],
            ["x.wild.test"] = [Internet.Address],
            ["other.test"] = [Internet.Address],
            ["private.test"] = [IPAddress.Parse("192.168.77.7")],
            ["rebind.test"] = [IPAddress.Parse("10.99.0.5"), IPAddress.Parse("::ffff:10.99.0.6")],
            ["meta.test"] = [IPAddress.Parse("169.254.169.254")],
            ["loop.test"] = [IPAddress.Loopback],
            ["host.test"] = [Internet.HostAddress],
            ["v6.test"] = [IPAddress.IPv6Loopback],
        });
        Host = new SandboxHost(options => options with
        {
            Egress = new EgressOptions { Resolver = Resolver.EndPoint, AllowedPrivateRanges = [Internet.Range] },
        });
    }

    public TestInternet Internet { get; }

    public TestResolver Resolver { get; }

    public SandboxHost Host { get; }

    public EgressNetwork Egress => Host.Runtime.Egress!;

    /// <summary>A spec whose network is <paramref name="allow"/> (or open mode when null).</summary>
    public static SandboxSpec Spec(string script, IReadOnlyList<string>? allow, long? byteCap = null) => SandboxHost.Spec(script) with
    {
        Network = EgressPolicy.Parse(allow is null ? EgressPolicy.OpenName : EgressPolicy.AllowlistName, allow, byteCap),
    };

    public void Dispose()
    {
        Host.Dispose();
        Resolver.Dispose();
        Internet.Dispose();
    }
}
