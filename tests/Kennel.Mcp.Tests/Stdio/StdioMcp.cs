using System.Collections.Concurrent;
using Kennel.Testing;
using ModelContextProtocol.Client;

namespace Kennel.Mcp.Tests.Stdio;

/// <summary>
/// The SDK client over <see cref="StdioClientTransport"/>, running the real <c>kennel mcp</c> as a child process
/// (<c>dotnet kennel.dll mcp</c>) that bridges to a test server's <c>/mcp</c> over HTTP.
/// </summary>
public sealed class StdioMcp : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> stderr = new();

    private StdioMcp()
    {
    }

    public McpClient Client { get; private set; } = null!;

    /// <summary>What the child wrote to stderr so far: its logs.</summary>
    public string Stderr => string.Join('\n', stderr);

    public static async Task<StdioMcp> StartAsync(TestServer server, string apiKey, string? logLevel = null)
    {
        var mcp = new StdioMcp();
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "kennel-mcp",
            Command = "dotnet",
            Arguments = [KennelProcess.KennelDll, "mcp"],
            EnvironmentVariables = Environment(server.Url.ToString(), apiKey, logLevel),
            StandardErrorLines = mcp.stderr.Enqueue,
        });
        mcp.Client = await McpClient.CreateAsync(transport);
        return mcp;
    }

    /// <summary>The child's environment: only what <c>kennel mcp</c> reads, so the test runner's own settings cannot leak in.</summary>
    public static Dictionary<string, string?> Environment(string? url, string? apiKey, string? logLevel) => new(StringComparer.Ordinal)
    {
        ["KENNEL_URL"] = url,
        ["KENNEL_API_KEY"] = apiKey,
        ["LOG_LEVEL"] = logLevel,
        ["KENNEL_DATA_DIR"] = null,
    };

    public async ValueTask DisposeAsync()
    {
        if (Client is not null)
        {
            await Client.DisposeAsync();
        }
    }
}
