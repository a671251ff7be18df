using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.Testing;

/// <summary>
/// A model provider on loopback that answers each request with the next scripted reply, in the provider's own wire
/// format, and keeps what it was sent. It stands in for OpenAI or Anthropic: the SDKs under test talk real HTTP to it.
/// </summary>
public sealed class ScriptedProvider : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<Func<HttpContext, Task>> replies = new();

    private ScriptedProvider(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    /// <summary>The base URL, as <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri Url { get; }

    /// <summary>Each request received: its path, its headers and its body.</summary>
    public ConcurrentQueue<(string Path, IHeaderDictionary Headers, string Body)> Requests { get; } = new();

    public static async Task<ScriptedProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        ScriptedProvider? provider = null;
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            // Kestrel reuses its header collection once the request ends, so the test keeps a copy.
            var headers = new HeaderDictionary(context.Request.Headers.ToDictionary(header => header.Key, header => header.Value));
            provider!.Requests.Enqueue((context.Request.Path, headers, await reader.ReadToEndAsync()));
            if (provider.replies.TryDequeue(out var reply))
            {
                await reply(context);
            }
            else
            {
                context.Response.StatusCode = 599;
            }
        });
        await app.StartAsync();
        provider = new ScriptedProvider(app, new Uri($"http://127.0.0.1:{new Uri(app.Urls.Single()).Port}/"));
        return provider;
    }

    public ScriptedProvider Then(Func<HttpContext, Task> reply)
    {
        replies.Enqueue(reply);
        return this;
    }

    /// <summary>An SSE stream of these <c>data:</c> payloads (each with its <c>event:</c> line when one is given).</summary>
    public ScriptedProvider ThenEvents(params (string? Event, string Data)[] events) => Then(async context =>
    {
        context.Response.ContentType = "text/event-stream";
        foreach (var (name, data) in events)
        {
            await context.Response.WriteAsync((name is null ? "" : $"event: {name}\n") + $"data: {data}\n\n");
            await context.Response.Body.FlushAsync();
        }
    });

    /// <summary>An SSE stream that sends these events and then drops the connection, as a crashed proxy would.</summary>
    public ScriptedProvider ThenEventsAndCut(params (string? Event, string Data)[] events) => Then(async context =>
    {
        context.Response.ContentType = "text/event-stream";
        foreach (var (name, data) in events)
        {
            await context.Response.WriteAsync((name is null ? "" : $"event: {name}\n") + $"data: {data}\n\n");
            await context.Response.Body.FlushAsync();
        }
        context.Abort();
    });

    public ScriptedProvider ThenStatus(int status, string body = "{}", params (string Name, string Value)[] headers) => Then(async context =>
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        foreach (var (name, value) in headers)
        {
            context.Response.Headers[name] = value;
        }
        await context.Response.WriteAsync(body);
    });

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
