using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kennel.Tests.Skills;

/// <summary>
/// A skill registry served as static files from a folder over HTTP on 127.0.0.1, the way a team would host one, plus
/// the misbehaviours a test asks for on a path: a redirect, a stall, or an endless body with no Content-Length.
/// </summary>
public sealed class RegistryHost : IAsyncDisposable
{
    private readonly WebApplication app;

    private RegistryHost(WebApplication app, string root, int port)
    {
        this.app = app;
        Root = root;
        Port = port;
    }

    public string Root { get; }
    public int Port { get; }
    public Uri Url => new($"http://127.0.0.1:{Port}/");

    /// <summary>How many requests each path got.</summary>
    public ConcurrentDictionary<string, int> Requests { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, string> Redirects { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, bool> Stalls { get; } = new(StringComparer.Ordinal);

    /// <summary>Paths answered with this many bytes, streamed in chunks without a Content-Length.</summary>
    public ConcurrentDictionary<string, long> Floods { get; } = new(StringComparer.Ordinal);

    public int Count(string path) => Requests.GetValueOrDefault(path);

    public static async Task<RegistryHost> StartAsync(string root)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        RegistryHost? host = null;
        app.Run(context => host!.AnswerAsync(context));
        await app.StartAsync();
        host = new RegistryHost(app, root, new Uri(app.Urls.Single()).Port);
        return host;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        Requests.AddOrUpdate(path, 1, (_, count) => count + 1);
        if (Redirects.TryGetValue(path, out var location))
        {
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = location;
            return;
        }
        if (Stalls.ContainsKey(path))
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }
        if (Floods.TryGetValue(path, out var bytes))
        {
            var chunk = new byte[64 * 1024];
            for (long sent = 0; sent < bytes && !context.RequestAborted.IsCancellationRequested; sent += chunk.Length)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted).AsTask().ContinueWith(_ => { }, TaskScheduler.Default);
            }
            return;
        }
        var file = Path.Combine(Root, path.TrimStart('/'));
        if (!File.Exists(file))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        await context.Response.SendFileAsync(file);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
