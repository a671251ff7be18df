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
}
