using System.Net;
using Microsoft.Win32.SafeHandles;

namespace Kennel.Sandbox.Network;

/// <summary>
/// A sandbox's network while it lives: its namespace (a veth to the egress namespace, no default route), the proxy
/// variables its workload sees, and its counters. Disposing it removes the namespace, and with it the veth pair.
/// </summary>
internal sealed class EgressAttachment(EgressNetwork network, string name, int slot, IPAddress sandbox, IPAddress proxy, SafeFileHandle handle, EgressSession session)
    : IAsyncDisposable
{
    private int _disposed;

    public string Name { get; } = name;

    public int Slot { get; } = slot;

    public IPAddress SandboxAddress { get; } = sandbox;

    /// <summary>The namespace the sandbox is started in.</summary>
    public SafeFileHandle Namespace { get; } = handle;

    public EgressSession Session { get; } = session;

    /// <summary>Where tools that honour the usual variables find the proxy; the sandbox's own loopback stays direct.</summary>
    public IReadOnlyDictionary<string, string> Environment()
    {
        var url = $"http://{proxy}:{EgressNetwork.ProxyPort}";
        const string Direct = "localhost,127.0.0.1,::1";
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["HTTP_PROXY"] = url,
            ["HTTPS_PROXY"] = url,
            ["http_proxy"] = url,
            ["https_proxy"] = url,
            ["NO_PROXY"] = Direct,
            ["no_proxy"] = Direct,
        };
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Namespace.Dispose();
            await network.DetachAsync(this);
            Session.Dispose();
        }
    }
}
