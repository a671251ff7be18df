using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kennel.Tests.Delivery;

/// <summary>
/// Someone's webhook endpoint on loopback: it records every POST it gets and answers with the statuses a test queued
/// (200 once they run out). It checks signatures with its own HMAC code, as a receiver following the Standard Webhooks
/// spec would, not with Kennel's.
/// </summary>
public sealed class WebhookReceiverHost : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<(int Status, string? RetryAfter, string Body)> answers = new();

    private WebhookReceiverHost(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    public Uri Url { get; }

    public ConcurrentQueue<Received> Requests { get; } = new();

    public sealed record Received(string? Id, string? Timestamp, string? Signature, string? UserAgent, string? ContentType, string Body);

    /// <summary>While set, every request is recorded and then left without an answer until it is completed.</summary>
    public TaskCompletionSource? Hold { get; set; }

    public void ThenAnswer(int status, string? retryAfter = null, string body = "") => answers.Enqueue((status, retryAfter, body));

    public static async Task<WebhookReceiverHost> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        WebhookReceiverHost? host = null;
        app.MapPost("/hook", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers;
            host!.Requests.Enqueue(new Received(headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"],
                headers.UserAgent, headers.ContentType, body));
            if (host.Hold is { } hold)
            {
                await hold.Task.WaitAsync(context.RequestAborted);
            }
            var (status, retryAfter, answer) = host.answers.TryDequeue(out var next) ? next : (200, null, "");
            context.Response.StatusCode = status;
            if (retryAfter is not null)
            {
                context.Response.Headers.RetryAfter = retryAfter;
            }
            await context.Response.WriteAsync(answer);
        });
        await app.StartAsync();
        var port = new Uri(app.Urls.Single()).Port;
        host = new WebhookReceiverHost(app, new Uri($"http://127.0.0.1:{port}/hook"));
        return host;
    }

    /// <summary>Waits until <paramref name="count"/> requests have arrived.</summary>
    public async Task WaitForRequestsAsync(int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (Requests.Count < count)
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    /// <summary>Whether <paramref name="request"/> carries a v1 signature of its id, timestamp and body under <paramref name="secret"/>.</summary>
    public static bool SignatureIsValid(Received request, string secret)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{request.Id}.{request.Timestamp}.{request.Body}")));
        // The header is a space-separated list of "version,signature"; any v1 entry that matches is enough.
        return (request.Signature ?? "").Split(' ').Any(entry => entry == $"v1,{expected}");
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
