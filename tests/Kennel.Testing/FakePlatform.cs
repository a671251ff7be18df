using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.Testing;

/// <summary>
/// What the local stand-ins for messaging platforms' APIs (Slack's Web API, Telegram's Bot API) share: a Kestrel server
/// on a free loopback port, the calls it took in order, and a wait for them.
/// </summary>
public abstract class FakePlatform : IAsyncDisposable
{
    private WebApplication? app;

    /// <summary>The server's base URL, ending in a slash.</summary>
    protected Uri Root { get; private set; } = null!;

    public sealed record ApiCall(string Method, JsonObject Body);

    /// <summary>Every call the platform accepted for its method, in order.</summary>
    public ConcurrentQueue<ApiCall> Calls { get; } = new();

    /// <summary>Starts the server with the routes <paramref name="map"/> adds.</summary>
    protected async Task StartAsync(Action<WebApplication> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        app = builder.Build();
        map(app);
        await app.StartAsync();
        Root = new Uri($"http://127.0.0.1:{new Uri(app.Urls.Single()).Port}/");
    }

    /// <summary>Waits until <paramref name="count"/> calls have arrived; fails after a minute.</summary>
    public async Task WaitForCallsAsync(int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (Calls.Count < count)
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }
}
