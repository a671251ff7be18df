using Kennel.Testing;

namespace Kennel.SystemTests.Workers;

/// <summary>A control plane without an embedded worker: only the remote workers a test starts run its sessions.</summary>
public sealed class RemoteControlPlaneFixture : IAsyncLifetime
{
    private ServeProcess? serve;

    public ServeProcess Serve => serve ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync() =>
        serve = await ServeProcess.StartAsync(TestStore.Sqlite, new Dictionary<string, string> { ["KENNEL_EMBEDDED_WORKER"] = "false" });

    public async Task DisposeAsync()
    {
        if (serve is not null)
        {
            await serve.DisposeAsync();
        }
    }
}
