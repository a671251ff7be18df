using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;

namespace Kennel.Bench;

/// <summary>
/// The floor of <c>scripts/bench.sh mcp</c>: bare Kestrel answering every POST with Kennel's own <c>tools/call</c>
/// answer, captured once (the same headers and body bytes), with no MCP SDK, no routing, no auth and no JSON parser.
/// Its round trip is what any Kestrel-based server costs this machine before doing any work. Runs as its own process
/// (<c>Kennel.Bench.dll mcp floor-kestrel</c>), like <c>kennel serve</c>, so it does not share the load generator's thread pool.
/// </summary>
internal static class FloorServer
{
    public const string Argument = "floor-kestrel";

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
