using Kennel.Testing;

namespace Kennel.Tests.OAuth;

/// <summary>A server whose public URL (the issuer) is https, as behind a TLS-terminating proxy.</summary>
public sealed class ServersWithAnHttpsIssuer() : ServersPerStore(s => s with { EmbeddedWorker = false, ExternalUrl = "https://kennel.example.com" });

public sealed class HttpsIssuerTests(ServersWithAnHttpsIssuer servers) : IClassFixture<ServersWithAnHttpsIssuer>
{
    [Fact]
    public async Task The_issuer_and_every_url_come_from_the_external_url_and_cookies_are_secure()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var http = server.Client(null);
        var metadata = await http.GetStringAsync("/.well-known/oauth-authorization-server");
        metadata.ShouldContain("\"issuer\":\"https://kennel.example.com\"");
        metadata.ShouldContain("\"token_endpoint\":\"https://kennel.example.com/oauth/token\"");
        using var anonymous = await server.InitializeAsync("/mcp", null);
        anonymous.Headers.WwwAuthenticate.ToString().ShouldContain("resource_metadata=\"https://kennel.example.com/.well-known/oauth-protected-resource/mcp\"");

        var client = await server.RegisterAsync();
        using var browser = new OAuthBrowser(server.Url);
        using var page = await browser.Http.GetAsync(server.AuthorizationUrl(client.ClientId, client.RedirectUris[0], OAuthClientSteps.Pkce().Challenge, resourcePath: null));
        page.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("kennel_csrf=", StringComparison.Ordinal)).ShouldContain("secure", Case.Insensitive);
    }
}
