using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Kennel.Testing;

namespace Kennel.Tests.Snapshots.Oci;

/// <summary>
/// A registry that behaves as hosted ones do at the edges the real server does not show: it wants HTTP Basic
/// (<c>WWW-Authenticate: Basic</c>), serves manifests itself and sends blobs elsewhere with a 307: to a "CDN" on
/// another loopback port, which records the Authorization headers it receives, or to <see cref="Redirect"/> when set.
/// It holds one image, <c>team/app:1</c>.
/// </summary>
internal sealed class RedirectingRegistry : IAsyncDisposable
{
    public const string User = "basic-user";
    public const string Password = "basic-password";

    private readonly HttpListener registry = new();
    private readonly HttpListener cdn = new();
    private readonly TestImage image;
    private readonly List<Task> serving = [];

    public RedirectingRegistry(TestImage image)
    {
        this.image = image;
        Host = $"127.0.0.1:{LoopbackPort.Free()}";
        CdnHost = $"127.0.0.1:{LoopbackPort.Free()}";
        registry.Prefixes.Add($"http://{Host}/");
        cdn.Prefixes.Add($"http://{CdnHost}/");
        registry.Start();
        cdn.Start();
        serving.Add(Task.Run(() => ListenerLoop.ServeAsync(registry, AnswerRegistry)));
        serving.Add(Task.Run(() => ListenerLoop.ServeAsync(cdn, AnswerCdn)));
    }

    public string Host { get; }
    public string CdnHost { get; }

    /// <summary>Where blobs are sent instead of the CDN, when set.</summary>
    public string? Redirect { get; set; }

    /// <summary>The Authorization header of each request the CDN received ("" for none).</summary>
    public ConcurrentQueue<string> CdnAuthorizations { get; } = new();

    private async Task AnswerRegistry(HttpListenerContext context)
    {
        var response = context.Response;
        var login = $"Basic {Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"))}";
        if (context.Request.Headers["Authorization"] != login)
        {
            response.StatusCode = 401;
            response.AddHeader("WWW-Authenticate", "Basic realm=\"test\"");
            return;
        }
        var path = context.Request.Url!.AbsolutePath;
        if (path == "/v2/team/app/manifests/1")
        {
            response.ContentType = image.Manifest.MediaType;
            await response.OutputStream.WriteAsync(image.Manifest.Bytes);
            return;
        }
        if (path.StartsWith("/v2/team/app/blobs/", StringComparison.Ordinal))
        {
            response.StatusCode = 307;
            response.RedirectLocation = Redirect ?? $"http://{CdnHost}/{path["/v2/team/app/blobs/".Length..]}";
            return;
        }
        response.StatusCode = 404;
    }

    private async Task AnswerCdn(HttpListenerContext context)
    {
        CdnAuthorizations.Enqueue(context.Request.Headers["Authorization"] ?? "");
        var digest = context.Request.Url!.AbsolutePath.TrimStart('/');
        var blob = image.Layers.Append(image.Config).FirstOrDefault(blob => blob.Digest == digest);
        if (blob is null)
        {
            context.Response.StatusCode = 404;
            return;
        }
        await context.Response.OutputStream.WriteAsync(blob.Bytes);
    }

    public async ValueTask DisposeAsync()
    {
        registry.Stop();
        cdn.Stop();
        await Task.WhenAll(serving);
        registry.Close();
        cdn.Close();
    }
}
