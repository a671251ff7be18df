using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using Kennel.ControlPlane.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using ModelContextProtocol.Client;
using ModelContextProtocol.Server;

namespace Kennel.Cli;

/// <summary>
/// <c>kennel mcp</c>: Kennel's fleet MCP server over stdin and stdout, for clients that start a command. It is a bridge
/// to <c>{KENNEL_URL}/mcp</c> over Streamable HTTP, so the tools, their scopes and their errors are the server's own,
/// and it works from a laptop against a remote Kennel.
/// </summary>
public static class McpCommand
{
    public static Command Build()
    {
        var mcp = new Command("mcp", """
            Serve Kennel's fleet MCP tools over stdio, for MCP clients that start a command (Claude Code, Cursor, VS Code).
            It relays every message to the MCP server at KENNEL_URL/mcp over HTTP, so it works against a remote Kennel.
            stdout carries only the protocol; logs go to stderr.

            Environment:
              KENNEL_URL      the control plane (default http://localhost:4000; /mcp is appended)
              KENNEL_API_KEY  required: an API key; its scopes decide which tools the client sees
              LOG_LEVEL       debug, info, warn or error (default warn)

            Example (.mcp.json for Claude Code; Cursor's .cursor/mcp.json has the same shape):
              {"mcpServers": {"kennel": {"command": "kennel", "args": ["mcp"],
                "env": {"KENNEL_URL": "https://kennel.example.com", "KENNEL_API_KEY": "kn_..."}}}}
            Or: claude mcp add kennel --env KENNEL_API_KEY=kn_... -- kennel mcp
            """);
        mcp.SetAction(async (_, cancellationToken) =>
        {
            var settings = McpBridgeSettings.FromEnvironment();
            using var logs = CreateStderrLogging(settings.LogLevel);
            var logger = logs.CreateLogger("kennel.mcp");
            await CheckReachableAsync(settings, cancellationToken);

            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan }; // wait-for-session holds a request open for minutes
            http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("kennel-mcp", HealthEndpoints.Version));
            var options = new HttpClientTransportOptions
            {
                Endpoint = settings.Endpoint,
                Name = "kennel",
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {settings.ApiKey}" },
            };
            // stdin through the SDK's framing; stdout written apart, since the SDK stops writing when stdin closes.
            var stdin = new StreamServerTransport(Console.OpenStandardInput(), Stream.Null, "kennel", logs);
            using var stdout = new JsonRpcLineWriter(Console.OpenStandardOutput());
            try
            {
                using var bridge = new McpBridge(stdin.MessageReader, stdout.WriteAsync, async token =>
                {
                    await using var upstream = new HttpClientTransport(options, http, logs, ownsHttpClient: false);
                    return await upstream.ConnectAsync(token);
                }, settings.Endpoint.ToString(), logger);
                return await bridge.RunAsync(cancellationToken);
            }
            finally
            {
                // Disposing stdin's transport waits for its read, which only ends at EOF; never hang the exit on it.
                await stdin.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(1), CancellationToken.None)
                    .ContinueWith(_ => { }, TaskScheduler.Default);
            }
        });
        return mcp;
    }

    /// <summary>Fails fast, in one line, when nothing answers at <c>KENNEL_URL</c>, before a client waits on a dead bridge.</summary>
    private static async Task CheckReachableAsync(McpBridgeSettings settings, CancellationToken cancellationToken)
    {
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        var health = new Uri(settings.Endpoint + "/health");
        try
        {
            using var response = await probe.GetAsync(health, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new CliException($"{health} answered 404: KENNEL_URL ({settings.BaseUrl}) does not look like a Kennel control plane.");
            }
        }
        catch (HttpRequestException unreachable)
        {
            throw new CliException($"Cannot reach Kennel at {settings.BaseUrl} ({unreachable.Message}). Is 'kennel serve' running there, and is KENNEL_URL right?");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"Kennel at {settings.BaseUrl} did not answer within {probe.Timeout.TotalSeconds:0} s. Is KENNEL_URL right?");
        }
    }

    private static ILoggerFactory CreateStderrLogging(LogLevel level) => LoggerFactory.Create(logging =>
    {
        logging.SetMinimumLevel(level);
        logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.ColorBehavior = LoggerColorBehavior.Disabled;
            console.TimestampFormat = "HH:mm:ss.fff ";
        });
        // stdout belongs to the protocol: every level goes to stderr.
        logging.Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
    });
}
