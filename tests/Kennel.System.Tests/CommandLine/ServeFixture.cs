using Kennel.Testing;

namespace Kennel.SystemTests.CommandLine;

/// <summary>One <c>kennel serve</c> (SQLite, embedded worker) shared by the CLI tests, which only read and add.</summary>
public sealed class ServeFixture : IAsyncLifetime
{
    private ServeProcess? serve;

    public ServeProcess Serve => serve ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync() => serve = await ServeProcess.StartAsync(TestStore.Sqlite);

    public async Task DisposeAsync()
    {
        if (serve is not null)
        {
            await serve.DisposeAsync();
        }
    }
}
