using System.Net;
using System.Net.Http.Json;
using Kennel.Contracts.OAuth;
using Kennel.Testing;

namespace Kennel.Tests.OAuth;

/// <summary>What a code or a client's registration binds, enforced at the token endpoint without burning a grant by mistake.</summary>
public sealed class TokenHardeningTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_code_presented_without_its_verifier_or_redirect_uri_is_refused_and_stays_usable(string store)
    {
        var server = await servers.GetAsync(store);
        var (client, code, verifier) = await NegativeBatteryTests.CodeAsync(server);
        using (var noVerifier = await NegativeBatteryTests.RedeemAsync(server, client, code, OAuthClientSteps.Pkce().Verifier))
        {
            await NegativeBatteryTests.ShouldBeOAuthErrorAsync(noVerifier, "invalid_grant", "code_verifier");
        }
        using (var otherRedirect = await server.TokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["client_id"] = client.ClientId,
            ["redirect_uri"] = "http://127.0.0.1:9/elsewhere",
            ["code_verifier"] = verifier,
        }))
        {
            await NegativeBatteryTests.ShouldBeOAuthErrorAsync(otherRedirect, "invalid_grant", "redirect_uri");
        }

        using var rightful = await NegativeBatteryTests.RedeemAsync(server, client, code, verifier);
        rightful.StatusCode.ShouldBe(HttpStatusCode.OK, await rightful.Content.ReadAsStringAsync());
        var tokens = (await rightful.Content.ReadFromJsonAsync(OAuthJson.Default.TokenResponse))!;
        using var accepted = await server.InitializeAsync("/mcp", tokens.AccessToken);
        accepted.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_client_registered_without_the_refresh_grant_gets_no_refresh_token_and_cannot_refresh(string store)
    {
        var server = await servers.GetAsync(store);
        var email = await server.CreateUserAsync($"g-{Guid.NewGuid():N}"[..16]);
        using var http = server.Client(null);
        using var registered = await http.PostAsJsonAsync("/oauth/register", new ClientMetadata
        {
            RedirectUris = ["http://127.0.0.1:9/callback"],
            ClientName = "Code only",
            TokenEndpointAuthMethod = "none",
            GrantTypes = ["authorization_code"],
        }, OAuthJson.Default.ClientMetadata);
        var client = (await registered.Content.ReadFromJsonAsync(OAuthJson.Default.ClientRegistration))!;
        client.GrantTypes.ShouldBe(["authorization_code"]);
        var (verifier, challenge) = OAuthClientSteps.Pkce();
        using var browser = new OAuthBrowser(server.Url);
        var back = await browser.AuthorizeAsync(server.AuthorizationUrl(client.ClientId, client.RedirectUris[0], challenge), email, OAuthClientSteps.Password);
        using var redeemed = await server.TokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = OAuthBrowser.Query(back, "code")!,
            ["client_id"] = client.ClientId,
            ["redirect_uri"] = client.RedirectUris[0],
            ["code_verifier"] = verifier,
        });
        var body = await redeemed.Content.ReadAsStringAsync();
        redeemed.StatusCode.ShouldBe(HttpStatusCode.OK, body);
        body.ShouldContain("\"access_token\"");
        body.ShouldNotContain("refresh_token");

        using var refresh = await server.TokenAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = "mcp_rt_anything", ["client_id"] = client.ClientId });
        await NegativeBatteryTests.ShouldBeOAuthErrorAsync(refresh, "unauthorized_client", "refresh_token");
    }
}
