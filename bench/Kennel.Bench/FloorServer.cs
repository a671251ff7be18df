using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using System.ComponentModel;
using Kennel.Mcp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.Bench;

/// <summary>
/// The floors of <c>scripts/bench.sh mcp</c>. <see cref="RunKestrelAsync"/>: bare Kestrel answering every POST with Kennel's own <c>tools/call</c>
/// answer, captured once (the same headers and body bytes), with no MCP SDK, no routing, no auth and no JSON parser.
/// Its round trip is what any Kestrel-based server costs this machine before doing any work. Runs as its own process
/// (<c>Kennel.Bench.dll mcp floor-kestrel</c>), like <c>kennel serve</c>, so it does not share the load generator's thread pool.
/// </summary>
internal static class FloorServer
{
    public const string Argument = "floor-kestrel";

    public const string SdkArgument = "floor-sdk";

    public static async Task<int> RunKestrelAsync()
    {
        var port = int.Parse(Environment.GetEnvironmentVariable("PORT")!, CultureInfo.InvariantCulture);
        var canned = CannedAnswer.Read(Environment.GetEnvironmentVariable("FLOOR_RESPONSE")!);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        await using var app = builder.Build();
        var body = canned.BodyBytes;
        var drain = new byte[16 * 1024];
        app.Run(async context =>
        {
            // Read the request as a server must, then send the canned answer in one write, chunked as Kennel's is.
            while (await context.Request.Body.ReadAsync(drain, context.RequestAborted) > 0)
            {
            }
            foreach (var (name, value) in canned.Headers)
            {
                context.Response.Headers[name] = value;
            }
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        });
        await app.StartAsync();
        Console.WriteLine($"listening on {port}");
        await app.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>
    /// Kennel's MCP endpoint without Kennel's work: the MCP package's transport (<c>MapMcp</c>, stateful, with
    /// <see cref="McpEventStore"/>) behind <see cref="McpEdgeFilter"/>, as <see cref="McpEndpoints"/> maps it, on Kestrel
    /// with routing and CORS as in <c>kennel serve</c>, serving one tool, get-session, declared as a method the way
    /// Kennel's tools are, that returns the captured answer: no authentication, no rate limiter, no database, no tool
    /// guard. What is left of Kennel's round trip above it is Kennel's own work per call.
    /// </summary>
    public static async Task<int> RunSdkAsync()
    {
        var port = int.Parse(Environment.GetEnvironmentVariable("PORT")!, CultureInfo.InvariantCulture);
        var result = JsonSerializer.Deserialize<CallToolResult>(File.ReadAllText(Environment.GetEnvironmentVariable("REFERENCE_RESULT")!), McpJsonUtilities.DefaultOptions)!;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        builder.Services.AddRouting();
        builder.Services.AddCors();
        builder.Services.AddMcpEndpoints(new McpHttpOptions { RateLimitPerMinute = 0 });
        await using var app = builder.Build();
        app.UseRouting();
        app.UseCors();
        McpServerPrimitiveCollection<McpServerTool> tools =
            [McpServerTool.Create(([Description("The session id.")] string id) => result, new McpServerToolCreateOptions { Name = "get-session", ReadOnly = true })];
        app.MapMcpEndpoint("/mcp", new McpEndpoint
        {
            OwnerOf = _ => "floor",
            Tools = () => tools,
            ConfigureServer = server => server.ServerInfo = new Implementation { Name = "sdk-floor", Version = "1.0.0" },
        });
        // For floor-cpu: what the process has allocated and how many thread-pool work items it has run so far.
        app.MapGet("/stats", () => string.Create(CultureInfo.InvariantCulture, $"{GC.GetTotalAllocatedBytes(true)} {ThreadPool.CompletedWorkItemCount}"));
        await app.StartAsync();
        Console.WriteLine($"listening on {port}");
        await app.WaitForShutdownAsync();
        return 0;
    }
}

/// <summary>One HTTP answer, as the floor servers replay it: the headers that matter and the body, in a JSON file.</summary>
internal sealed record CannedAnswer(Dictionary<string, string> Headers, string Body)
{
    /// <summary>What Kestrel or node:http add themselves (or must compute), so not replayed.</summary>
    private static readonly string[] Framing = ["date", "server", "transfer-encoding", "content-length", "connection", "keep-alive"];

    public byte[] BodyBytes => System.Text.Encoding.UTF8.GetBytes(Body);

    /// <summary>From a raw header block (status line first) and the body it came with.</summary>
    public static CannedAnswer FromRaw(string rawHeaders, string body)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in rawHeaders.Split("\r\n").Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && !Framing.Contains(line[..colon].Trim().ToLowerInvariant()))
            {
                headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }
        return new CannedAnswer(headers, body);
    }

    public static CannedAnswer Read(string path) =>
        JsonSerializer.Deserialize<CannedAnswer>(File.ReadAllText(path), JsonSerializerOptions.Web)!;

    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, JsonSerializerOptions.Web));
}
