using Kennel.ControlPlane.Hosting;
using Kennel.Testing;

namespace Kennel.Mcp.Tests;

/// <summary>One real control plane per store, started on first use and shared by the tests of one class.</summary>
public abstract class McpServers(Func<KennelSettings, KennelSettings>? configure) : IAsyncLifetime
{
    private readonly Dictionary<string, Task<TestServer>> servers = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    public Task<TestServer> GetAsync(string store)
    {
        lock (gate)
        {
            if (!servers.TryGetValue(store, out var server))
            {
                server = TestServer.StartAsync(store, configure);
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

/// <summary>Servers as <c>kennel serve</c> starts them, with the embedded bubblewrap worker.</summary>
public sealed class ServersWithWorker() : McpServers(null);

/// <summary>Servers with no worker: every session stays pending until it is cancelled.</summary>
public sealed class ServersWithoutWorkers() : McpServers(s => s with { EmbeddedWorker = false });
