using System.Net;
using System.Net.Http.Json;
using Kennel.Contracts.OAuth;
using Kennel.Testing;

namespace Kennel.Tests.OAuth;

/// <summary>The authorization code and refresh grants as a client sends them: the seed 004 response, and rotation.</summary>
public sealed class TokenFlowTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_code_becomes_a_bearer_token_and_a_rotating_refresh_token(string store)
    {
        var server = await servers.GetAsync(store);
        var client = await server.RegisterAsync();
        var tokens = await server.FullFlowAsync($"t-{Guid.NewGuid():N}"[..16]);

        tokens.TokenType.ShouldBe("Bearer");
        tokens.ExpiresIn.ShouldBe(3600);
        tokens.Scope.ShouldBe("mcp:read mcp:chat");
        tokens.RefreshToken.ShouldStartWith("mcp_rt_");
        tokens.AccessToken.ShouldStartWith("eyJ");
        client.ClientId.ShouldStartWith("mcp_");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_refresh_rotates_the_refresh_token(string store)
    {
        var server = await servers.GetAsync(store);
        var (tokens, clientId) = await FlowAsync(server);

        using var refreshed = await server.TokenAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.RefreshToken!, ["client_id"] = clientId });
        refreshed.StatusCode.ShouldBe(HttpStatusCode.OK, await refreshed.Content.ReadAsStringAsync());
        var next = (await refreshed.Content.ReadFromJsonAsync(OAuthJson.Default.TokenResponse))!;
        next.RefreshToken.ShouldNotBe(tokens.RefreshToken);
        next.Scope.ShouldBe(tokens.Scope);
        refreshed.Headers.CacheControl!.NoStore.ShouldBeTrue();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task No_password_refresh_token_or_access_token_is_kept_at_rest(string store)
    {
        var server = await servers.GetAsync(store);
        var (tokens, _) = await FlowAsync(server);
        var values = await server.ReadAllValuesAsync();
        var refreshSecret = tokens.RefreshToken!["mcp_rt_".Length..];
        var signature = tokens.AccessToken.Split('.')[2];
        values.ShouldNotContain(v => v.Value.Contains(OAuthClientSteps.Password, StringComparison.Ordinal));
        values.ShouldNotContain(v => v.Value.Contains(refreshSecret, StringComparison.Ordinal));
        values.ShouldNotContain(v => v.Value.Contains(signature, StringComparison.Ordinal));
        values.ShouldContain(v => v.Table == "users" && v.Column == "password_hash" && v.Value.StartsWith("pbkdf2-sha256$600000$", StringComparison.Ordinal));
    }

    internal static async Task<(TokenResponse Tokens, string ClientId)> FlowAsync(TestServer server, string resourcePath = "/mcp", string? workspace = null, string? scope = null)
    {
        workspace ??= $"t-{Guid.NewGuid():N}"[..16];
        var email = await server.CreateUserAsync(workspace);
        var client = await server.RegisterAsync();
        var (verifier, challenge) = OAuthClientSteps.Pkce();
        using var browser = new OAuthBrowser(server.Url);
        var back = await browser.AuthorizeAsync(server.AuthorizationUrl(client.ClientId, client.RedirectUris[0], challenge, resourcePath, scope), email, OAuthClientSteps.Password);
        using var response = await server.TokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = OAuthBrowser.Query(back, "code")!,
            ["client_id"] = client.ClientId,
            ["redirect_uri"] = client.RedirectUris[0],
            ["code_verifier"] = verifier,
        });
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return ((await response.Content.ReadFromJsonAsync(OAuthJson.Default.TokenResponse))!, client.ClientId);
    }
}
