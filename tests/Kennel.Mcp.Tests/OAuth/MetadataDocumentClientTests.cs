using System.Net;
using Kennel.Contracts.Users;
using Kennel.Testing;
using ModelContextProtocol.Authentication;
using ModelContextProtocol.Client;

namespace Kennel.Mcp.Tests.OAuth;

/// <summary>
/// A client identified by the https URL of its metadata document (CIMD), served by a test website on loopback: the SDK
/// client completes the flow with no registration; the SSRF guard and the document checks refuse what they must.
/// </summary>
public sealed class MetadataDocumentClientTests
{
    private const string RedirectUri = "http://127.0.0.1:9/callback";

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task The_sdk_client_signs_in_with_a_metadata_document_and_calls_a_tool(string store)
    {
        await using var website = await MetadataDocumentHost.StartAsync();
        website.Document = url => Document(url.ToString(), RedirectUri);
        await using var server = await StartAsync(store, website, allowPrivate: true);
        var email = await server.CreateUserAsync($"cimd-{Guid.NewGuid():N}"[..16], Roles.Member);
        using var browser = new OAuthBrowser(server.Url);
        string? consentedClient = null;

        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(server.Url, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            OAuth = new ClientOAuthOptions
            {
                RedirectUri = new Uri(RedirectUri),
                ClientMetadataDocumentUri = website.DocumentUrl,
                AuthorizationCallbackHandler = async (context, _) =>
                {
                    consentedClient = OAuthBrowser.Query(context.AuthorizationUri, "client_id");
                    var back = await browser.AuthorizeAsync(context.AuthorizationUri, email, OAuthClientSteps.Password);
                    return new AuthorizationResult { Code = OAuthBrowser.Query(back, "code"), State = OAuthBrowser.Query(back, "state"), Iss = OAuthBrowser.Query(back, "iss") };
                },
            },
        }));
        var result = await client.CallAsync("list-sessions");

        result.IsError.ShouldNotBe(true, result.Text());
        consentedClient.ShouldBe(website.DocumentUrl.ToString());
    }

    [Fact]
    public async Task A_document_on_a_loopback_address_is_not_fetched_unless_allowed()
    {
        await using var website = await MetadataDocumentHost.StartAsync();
        var fetched = 0;
        website.Document = url =>
        {
            Interlocked.Increment(ref fetched);
            return Document(url.ToString(), RedirectUri);
        };
        await using var server = await StartAsync(TestStore.Sqlite, website, allowPrivate: false);
        using var browser = new OAuthBrowser(server.Url);
        using var response = await browser.Http.GetAsync(server.AuthorizationUrl(website.DocumentUrl.ToString(), RedirectUri, OAuthClientSteps.Pkce().Challenge));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Headers.Location.ShouldBeNull();
        fetched.ShouldBe(0);
    }

    [Fact]
    public async Task A_document_naming_another_client_id_or_redirect_is_refused()
    {
        await using var website = await MetadataDocumentHost.StartAsync();
        await using var server = await StartAsync(TestStore.Sqlite, website, allowPrivate: true);
        using var browser = new OAuthBrowser(server.Url);

        website.Document = _ => Document("https://impostor.example/client.json", RedirectUri);
        using (var impostor = await browser.Http.GetAsync(server.AuthorizationUrl(website.DocumentUrl.ToString(), RedirectUri, OAuthClientSteps.Pkce().Challenge)))
        {
            impostor.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        }

        await using var other = await MetadataDocumentHost.StartAsync();
        other.Document = url => Document(url.ToString(), RedirectUri);
        await using var server2 = await StartAsync(TestStore.Sqlite, other, allowPrivate: true);
        using var browser2 = new OAuthBrowser(server2.Url);
        using var elsewhere = await browser2.Http.GetAsync(server2.AuthorizationUrl(other.DocumentUrl.ToString(), "http://127.0.0.1:9/elsewhere", OAuthClientSteps.Pkce().Challenge));
        elsewhere.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        elsewhere.Headers.Location.ShouldBeNull();
        (await elsewhere.Content.ReadAsStringAsync()).ShouldContain("redirect_uri");
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("93.184.216.34", true)]
    [InlineData("2606:2800:220:1:248:1893:25c8:1946", true)]
    public void The_ssrf_guard_allows_only_public_addresses(string address, bool allowed) =>
        Kennel.ControlPlane.OAuth.ClientMetadataDocuments.IsPublic(IPAddress.Parse(address)).ShouldBe(allowed);

    private static string Document(string clientId, string redirectUri) =>
        $$"""{"client_id": "{{clientId}}", "client_name": "CIMD test client", "redirect_uris": ["{{redirectUri}}"], "token_endpoint_auth_method": "none"}""";

    private static Task<TestServer> StartAsync(string store, MetadataDocumentHost website, bool allowPrivate) =>
        TestServer.StartAsync(store, settings => settings with
        {
            EmbeddedWorker = false,
            OAuth = settings.OAuth with
            {
                CimdAllowPrivateAddresses = allowPrivate,
                CimdCertificateValidation = (_, certificate, _, _) => website.Trusts(certificate),
            },
        });
}
