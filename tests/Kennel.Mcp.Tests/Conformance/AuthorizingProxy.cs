using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.Mcp.Tests.Conformance;

/// <summary>
/// The conformance CLI has no way to send an <c>Authorization</c> header (its <c>server</c> command takes only a URL),
/// and the real <c>/mcp</c> rightly refuses requests without one. This loopback proxy, in the test only, forwards every
/// request unchanged to <paramref name="target"/> and adds <c>Authorization: Bearer</c> with a real key, so the real
/// endpoint and its real authentication are what the suite meets. <c>Host</c> and <c>Origin</c> are forwarded as
/// sent, so DNS-rebinding checks see what the client sent; responses (SSE included) stream back as they are written.
/// </summary>
public sealed class AuthorizingProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Connection", "Host", "Authorization",
    };

    private readonly WebApplication app;
    private readonly HttpClient client;

    private AuthorizingProxy(WebApplication app, HttpClient client, Uri url)
    {
        this.app = app;
        this.client = client;
        Url = url;
    }

    /// <summary>The proxy's <c>/mcp</c>, <c>http://127.0.0.1:PORT/mcp</c>.</summary>
    public Uri Url { get; }

    public static async Task<AuthorizingProxy> StartAsync(Uri target, string apiKey)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = Timeout.InfiniteTimeSpan };
        app.Run(async context =>
        {
            using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(target, context.Request.Path + context.Request.QueryString));
            if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            {
                request.Content = new StreamContent(context.Request.Body);
            }
            foreach (var (name, values) in context.Request.Headers)
            {
                if (HopByHop.Contains(name))
                {
                    continue;
                }
                if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
                {
                    request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
                }
            }
            request.Headers.Host = context.Request.Host.Value;
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);

            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!HopByHop.Contains(name))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }
            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            var buffer = new byte[16 * 1024];
            int read;
            try
            {
                while ((read = await body.ReadAsync(buffer, context.RequestAborted)) > 0)
                {
                    await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client closed its stream.
            }
        });
        await app.StartAsync();
        return new AuthorizingProxy(app, client, new Uri(new Uri(app.Urls.Single()), "/mcp"));
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        client.Dispose();
    }
}
