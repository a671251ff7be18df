using Kennel.ControlPlane.Hosting;
using Xunit;

namespace Kennel.Testing;

/// <summary>
/// One server per store, started on first use and shared by the tests of one class (which xUnit runs one at a time).
/// Sharing keeps the suites fast; tests that read lists take a fresh workspace so they see only their own sessions.
/// </summary>
/// <param name="log">Where the servers' log goes, for tests of it; by default nowhere.</param>
public abstract class ServersPerStore(Func<KennelSettings, KennelSettings>? configure, LogCapture? log = null) : IAsyncLifetime
{
    private readonly Dictionary<string, Task<TestServer>> servers = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    public Task<TestServer> GetAsync(string store)
    {
        lock (gate)
        {
            if (!servers.TryGetValue(store, out var server))
            {
                server = TestServer.StartAsync(store, configure, logging: log is null ? null : log.AddTo);
                servers[store] = server;
            }
            return server;
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var server in servers.Values.Where(s => !s.IsFaulted))
        {
            await (await server).DisposeAsync();
        }
    }
}
