using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Kennel.ControlPlane.OAuth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kennel.Tests.OAuth;

/// <summary>The client ID metadata document cache over real HTTPS: one fetch per URL at a time, caller-proof, bounded.</summary>
public sealed class ClientMetadataCacheTests
{
    private static readonly X509Certificate2 Trusted = Certificate();

    [Fact]
    public async Task Concurrent_requests_for_one_url_share_one_fetch()
    {
        await using var server = await DocumentServer.StartAsync(TimeSpan.FromMilliseconds(300));
        using var documents = Documents();
        var url = server.Url("/client.json");
        var clients = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => documents.FindAsync(url, CancellationToken.None)));
        clients.ShouldAllBe(client => client != null && client.Id == url);
        server.Hits.ShouldBe(1);
    }

    [Fact]
    public async Task A_caller_that_gives_up_does_not_leave_a_failure_in_the_cache()
    {
        await using var server = await DocumentServer.StartAsync(TimeSpan.FromMilliseconds(500));
        using var documents = Documents();
        var url = server.Url("/impatient.json");
        using (var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(50)))
        {
            await Should.ThrowAsync<OperationCanceledException>(() => documents.FindAsync(url, impatient.Token));
        }
        var client = await documents.FindAsync(url, CancellationToken.None);
        client.ShouldNotBeNull("the fetch went on for the next caller, and its document was cached, not a failure");
        server.Hits.ShouldBe(1);
    }

    [Fact]
    public async Task The_cache_holds_a_bounded_number_of_urls()
    {
        using var documents = Documents();
        for (var i = 0; i < ClientMetadataDocuments.MaxCached + 50; i++)
        {
            // A bare host is not a valid client_id URL: refused (and the refusal cached) without a request.
            (await documents.FindAsync($"https://h{i}.example/", CancellationToken.None)).ShouldBeNull();
        }
        documents.Cached.ShouldBeLessThanOrEqualTo(ClientMetadataDocuments.MaxCached);
    }

    private static ClientMetadataDocuments Documents() => new(
        new OAuthOptions
        {
            CimdAllowPrivateAddresses = true,
            CimdCertificateValidation = (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString() == Trusted.Thumbprint,
        },
        TimeProvider.System, NullLogger<ClientMetadataDocuments>.Instance);

    /// <summary>An HTTPS server on loopback serving a metadata document at any path, slowly, counting requests.</summary>
    private sealed class DocumentServer : IAsyncDisposable
    {
        private readonly WebApplication app;
        private int hits;

        private DocumentServer(WebApplication app) => this.app = app;

        public int Hits => Volatile.Read(ref hits);

        public string Url(string path) => new Uri(new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()), path).ToString();

        public static async Task<DocumentServer> StartAsync(TimeSpan delay)
        {
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(Trusted)));
            var app = builder.Build();
            var server = new DocumentServer(app);
            app.Run(async context =>
            {
                Interlocked.Increment(ref server.hits);
                await Task.Delay(delay);
                var url = $"https://{context.Request.Host}{context.Request.Path}";
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(
                    $$"""{"client_id":"{{url}}","client_name":"Document client","redirect_uris":["http://127.0.0.1:9/callback"],"token_endpoint_auth_method":"none"}""");
            });
            await app.StartAsync();
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static X509Certificate2 Certificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}
