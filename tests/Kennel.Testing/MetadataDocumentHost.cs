using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;

namespace Kennel.Testing;

/// <summary>
/// A client's website on loopback over https (a self-signed certificate made here), serving its client ID metadata
/// document at <c>/client.json</c>. The Kennel under test is told to allow loopback and to trust this certificate.
/// </summary>
public sealed class MetadataDocumentHost : IAsyncDisposable
{
    private readonly WebApplication app;

    private MetadataDocumentHost(WebApplication app, Uri url, X509Certificate2 certificate)
    {
        this.app = app;
        DocumentUrl = url;
        Certificate = certificate;
    }

    public Uri DocumentUrl { get; }

    public X509Certificate2 Certificate { get; }

    /// <summary>What <c>/client.json</c> answers; <paramref name="document"/> gets the document's own URL.</summary>
    public Func<Uri, string> Document { get; set; } = _ => "{}";

    /// <summary>Trusts exactly this host's certificate: what <c>OAuthOptions.CimdCertificateValidation</c> is set to.</summary>
    public bool Trusts(X509Certificate? presented) => presented is not null && presented.GetCertHashString() == Certificate.GetCertHashString();

    public static async Task<MetadataDocumentHost> StartAsync()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        var certificate = X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pkcs12), null);

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        MetadataDocumentHost? host = null;
        app.MapGet("/client.json", () => Microsoft.AspNetCore.Http.Results.Text(host!.Document(host.DocumentUrl), "application/json"));
        await app.StartAsync();
        var address = new Uri(app.Urls.Single());
        host = new MetadataDocumentHost(app, new Uri($"https://127.0.0.1:{address.Port}/client.json"), certificate);
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        Certificate.Dispose();
    }
}
