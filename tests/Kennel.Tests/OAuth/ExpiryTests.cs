using System.Net;
using Kennel.Testing;

namespace Kennel.Tests.OAuth;

/// <summary>Expired codes and access tokens, on servers where both expire the moment they are issued.</summary>
public sealed class ExpiryTests(ServersWithInstantExpiry servers) : IClassFixture<ServersWithInstantExpiry>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_expired_code_is_invalid_grant(string store)
    {
        var server = await servers.GetAsync(store);
        var (client, code, verifier) = await NegativeBatteryTests.CodeAsync(server);
        using var response = await NegativeBatteryTests.RedeemAsync(server, client, code, verifier);
        await NegativeBatteryTests.ShouldBeOAuthErrorAsync(response, "invalid_grant", "expired");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_expired_access_token_is_refused_with_invalid_token(string store)
    {
        var server = await servers.GetAsync(store);
        // Codes expire at once on this server, so the token is issued directly, by the same service the token endpoint uses.
        var token = await TokenIssuedNowAsync(server);
        using var refused = await server.InitializeAsync("/mcp", token);
        refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        refused.Headers.WwwAuthenticate.ToString().ShouldContain("invalid_token");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Expired_codes_are_swept_from_the_store(string store)
    {
        var server = await servers.GetAsync(store);
        await NegativeBatteryTests.CodeAsync(server);
        (await server.ReadAllValuesAsync()).ShouldContain(v => v.Table == "oauth_codes");
        var sweeper = (Kennel.ControlPlane.OAuth.ExpiredSecretsSweeper)server.Server.Services.GetService(typeof(Kennel.ControlPlane.OAuth.ExpiredSecretsSweeper))!;

        (await sweeper.SweepAsync(CancellationToken.None)).ShouldBeGreaterThan(0);
        (await server.ReadAllValuesAsync()).ShouldNotContain(v => v.Table == "oauth_codes");
    }

    private static async Task<string> TokenIssuedNowAsync(TestServer server)
    {
        var issuer = (Kennel.ControlPlane.OAuth.AccessTokens)server.Server.Services.GetService(typeof(Kennel.ControlPlane.OAuth.AccessTokens))!;
        return await issuer.IssueAsync(new Kennel.ControlPlane.OAuth.GrantRow
        {
            Id = "grt_test",
            ClientId = "mcp_test",
            UserId = "usr_test",
            WorkspaceId = "ws_default",
            WorkspaceName = "default",
            Resource = new Uri(server.Url, "/mcp").ToString(),
            Scope = "mcp:read",
        }, CancellationToken.None);
    }
}
