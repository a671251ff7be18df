using System.Net;
using System.Net.Http.Json;
using System.Text;
using Kennel.Contracts.OAuth;
using Kennel.Testing;

namespace Kennel.Tests.OAuth;

/// <summary>Each way a client, a browser or a token can be wrong, refused the way RFC 6749, 7636, 8707 and 9207 say.</summary>
public sealed class NegativeBatteryTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    private const string Redirect = "http://127.0.0.1:9/callback";

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_wrong_code_verifier_is_invalid_grant(string store)
    {
        var server = await servers.GetAsync(store);
        var (client, code, _) = await CodeAsync(server);
        using var response = await RedeemAsync(server, client, code, OAuthClientSteps.Pkce().Verifier);
        await ShouldBeOAuthErrorAsync(response, "invalid_grant", "code_verifier");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_code_presented_for_another_resource_is_invalid_target_and_stays_usable(string store)
    {
        var server = await servers.GetAsync(store);
        var (client, code, verifier) = await CodeAsync(server);

        foreach (var resource in new[] { new Uri(server.Url, "/w/elsewhere/mcp").ToString(), "https://evil.example/mcp" })
        {
            using var wrong = await server.TokenAsync(new()
            {
                ["grant_type"] = "authorization_code",
                ["code"] = code,
                ["client_id"] = client.ClientId,
                ["redirect_uri"] = Redirect,
                ["code_verifier"] = verifier,
                ["resource"] = resource,
            });
            await ShouldBeOAuthErrorAsync(wrong, "invalid_target", "resource");
        }

        using var right = await RedeemAsync(server, client, code, verifier);
        var body = await right.Content.ReadAsStringAsync();
        right.StatusCode.ShouldBe(HttpStatusCode.OK, body);
        var tokens = System.Text.Json.JsonSerializer.Deserialize(body, OAuthJson.Default.TokenResponse)!;
        using var accepted = await server.InitializeAsync("/mcp", tokens.AccessToken);
        accepted.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Plain_pkce_is_refused(string store)
    {
        var server = await servers.GetAsync(store);
        var back = await AuthorizeAsync(server, (await server.RegisterAsync()).ClientId, "a-plain-challenge-that-is-the-verifier-itself-000", method: "plain");
        OAuthBrowser.Query(back, "error").ShouldBe("invalid_request");
        OAuthBrowser.Query(back, "error_description")!.ShouldContain("S256");
        OAuthBrowser.Query(back, "code").ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_public_client_without_pkce_is_refused(string store)
    {
        var server = await servers.GetAsync(store);
        var back = await AuthorizeAsync(server, (await server.RegisterAsync()).ClientId, challenge: null);
        OAuthBrowser.Query(back, "error").ShouldBe("invalid_request");
        OAuthBrowser.Query(back, "error_description")!.ShouldContain("PKCE");
        OAuthBrowser.Query(back, "state").ShouldBe("xyz");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_redirect_uri_that_was_not_registered_gets_an_error_page_not_a_redirect(string store)
    {
        var server = await servers.GetAsync(store);
        var client = await server.RegisterAsync();
        using var browser = new OAuthBrowser(server.Url);
        using var response = await browser.Http.GetAsync(server.AuthorizationUrl(client.ClientId, "http://127.0.0.1:9/other", OAuthClientSteps.Pkce().Challenge));
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Headers.Location.ShouldBeNull();
        (await response.Content.ReadAsStringAsync()).ShouldContain("redirect_uri is not one this client registered");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_unknown_client_gets_an_error_page(string store)
    {
        var server = await servers.GetAsync(store);
        using var browser = new OAuthBrowser(server.Url);
        using var response = await browser.Http.GetAsync(server.AuthorizationUrl("mcp_00000000-0000-0000-0000-000000000000", Redirect, OAuthClientSteps.Pkce().Challenge));
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Headers.Location.ShouldBeNull();
        using var token = await server.TokenAsync(new() { ["grant_type"] = "authorization_code", ["code"] = "x", ["client_id"] = "mcp_nobody" });
        await ShouldBeOAuthErrorAsync(token, "invalid_client", "client", HttpStatusCode.Unauthorized);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_code_used_twice_revokes_the_tokens_issued_from_it(string store)
    {
        var server = await servers.GetAsync(store);
        var (client, code, verifier) = await CodeAsync(server);
        using var first = await RedeemAsync(server, client, code, verifier);
        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        var tokens = (await first.Content.ReadFromJsonAsync(OAuthJson.Default.TokenResponse))!;
        using (var accepted = await server.InitializeAsync("/mcp", tokens.AccessToken))
        {
            accepted.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using var second = await RedeemAsync(server, client, code, verifier);
        await ShouldBeOAuthErrorAsync(second, "invalid_grant", "already used");
        using var refused = await server.InitializeAsync("/mcp", tokens.AccessToken);
        refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        using var refresh = await server.TokenAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.RefreshToken!, ["client_id"] = client.ClientId });
        await ShouldBeOAuthErrorAsync(refresh, "invalid_grant", "revoked");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_refresh_token_used_twice_revokes_its_whole_family(string store)
    {
        var server = await servers.GetAsync(store);
        var (tokens, clientId) = await TokenFlowTests.FlowAsync(server);
        using var rotated = await server.TokenAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.RefreshToken!, ["client_id"] = clientId });
        var next = (await rotated.Content.ReadFromJsonAsync(OAuthJson.Default.TokenResponse))!;

        using var replay = await server.TokenAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.RefreshToken!, ["client_id"] = clientId });
        await ShouldBeOAuthErrorAsync(replay, "invalid_grant", "already used");
        using var successor = await server.TokenAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = next.RefreshToken!, ["client_id"] = clientId });
        await ShouldBeOAuthErrorAsync(successor, "invalid_grant", "revoked");
        using var access = await server.InitializeAsync("/mcp", next.AccessToken);
        access.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_token_for_one_endpoint_is_refused_on_another(string store)
    {
        var server = await servers.GetAsync(store);
        var workspace = $"n-{Guid.NewGuid():N}"[..16];
        var (fleet, _) = await TokenFlowTests.FlowAsync(server, "/mcp", workspace);
        var (scoped, _) = await TokenFlowTests.FlowAsync(server, $"/w/{workspace}/mcp", workspace);

        using (var wrong = await server.InitializeAsync($"/w/{workspace}/mcp", fleet.AccessToken))
        {
            wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            wrong.Headers.WwwAuthenticate.ToString().ShouldContain("error=\"invalid_token\"");
        }
        using (var wrong = await server.InitializeAsync("/mcp", scoped.AccessToken))
        {
            wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        using var rest = server.Client(fleet.AccessToken);
        using var sessions = await rest.GetAsync("/v1/sessions");
        sessions.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        using var right = await server.InitializeAsync($"/w/{workspace}/mcp", scoped.AccessToken);
        right.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_token_for_one_workspace_is_refused_on_another(string store)
    {
        var server = await servers.GetAsync(store);
        var a = $"a-{Guid.NewGuid():N}"[..16];
        var b = $"b-{Guid.NewGuid():N}"[..16];
        await server.CreateUserAsync(b);
        var (tokenA, _) = await TokenFlowTests.FlowAsync(server, $"/w/{a}/mcp", a);
        using var refused = await server.InitializeAsync($"/w/{b}/mcp", tokenA.AccessToken);
        refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var keyA = (await server.Client().CreateApiKeyAsync(a, Contracts.ApiKeys.Scopes.Read)).Key;
        using var forbidden = await server.InitializeAsync($"/w/{b}/mcp", keyA);
        forbidden.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_tampered_token_is_refused(string store)
    {
        var server = await servers.GetAsync(store);
        var (tokens, _) = await TokenFlowTests.FlowAsync(server);
        var parts = tokens.AccessToken.Split('.');
        var claims = Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(parts[1])).Replace("mcp:read mcp:chat", "mcp:read mcp:chat mcp:admin", StringComparison.Ordinal);
        var forged = $"{parts[0]}.{System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims))}.{parts[2]}";
        using var refused = await server.InitializeAsync("/mcp", forged);
        refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var flipped = parts[2][..^2] + (parts[2][^2] == 'A' ? "B" : "A") + parts[2][^1];
        using var alsoRefused = await server.InitializeAsync("/mcp", $"{parts[0]}.{parts[1]}.{flipped}");
        alsoRefused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_unsigned_alg_none_token_is_refused(string store)
    {
        var server = await servers.GetAsync(store);
        var (tokens, _) = await TokenFlowTests.FlowAsync(server);
        var header = System.Buffers.Text.Base64Url.EncodeToString("""{"alg":"none","typ":"at+jwt"}"""u8);
        var unsigned = $"{header}.{tokens.AccessToken.Split('.')[1]}.";
        using var refused = await server.InitializeAsync("/mcp", unsigned);
        refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_consent_post_without_the_csrf_token_is_refused(string store)
    {
        var server = await servers.GetAsync(store);
        var email = await server.CreateUserAsync($"c-{Guid.NewGuid():N}"[..16]);
        var client = await server.RegisterAsync();
        using var browser = new OAuthBrowser(server.Url);
        var url = server.AuthorizationUrl(client.ClientId, Redirect, OAuthClientSteps.Pkce().Challenge);
        using var loginPage = await browser.Http.GetAsync(url);
        var fields = OAuthBrowser.Fields(await loginPage.Content.ReadAsStringAsync());
        fields["email"] = email;
        fields["password"] = OAuthClientSteps.Password;
        using var login = await browser.Http.PostAsync("/oauth/login", new FormUrlEncodedContent(fields));
        login.StatusCode.ShouldBe(HttpStatusCode.Redirect);

        // A page elsewhere posts the consent form: it has the signed-in cookie's session but not the CSRF token.
        var forged = new Dictionary<string, string>(fields) { ["decision"] = "allow", ["csrf"] = "forged-token-of-the-right-length-0000000000" };
        using var attack = await browser.Http.PostAsync("/oauth/consent", new FormUrlEncodedContent(forged));
        attack.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        attack.Headers.Location.ShouldBeNull();
        using var crossOrigin = new HttpRequestMessage(HttpMethod.Post, "/oauth/consent") { Content = new FormUrlEncodedContent(fields.Append(new("decision", "allow"))) };
        crossOrigin.Headers.Add("Origin", "https://evil.example");
        using var attack2 = await browser.Http.SendAsync(crossOrigin);
        attack2.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Open_redirects_are_refused_at_registration_and_authorization(string store)
    {
        var server = await servers.GetAsync(store);
        using var http = server.Client(null);
        foreach (var evil in new[] { "http://evil.example/cb", "javascript:alert(1)", "https://good.example/cb#frag", "http://127.0.0.1.evil.example/cb" })
        {
            using var register = await http.PostAsJsonAsync("/oauth/register", new ClientMetadata { RedirectUris = [evil] }, OAuthJson.Default.ClientMetadata);
            await ShouldBeOAuthErrorAsync(register, "invalid_redirect_uri", evil);
        }
        var client = await server.RegisterAsync("https://good.example/cb");
        using var browser = new OAuthBrowser(server.Url);
        foreach (var evil in new[] { "https://evil.example/cb", "https://good.example/cb/../../evil", "https://good.example/cb?next=https://evil.example", "https://good.example.evil.example/cb" })
        {
            using var response = await browser.Http.GetAsync(server.AuthorizationUrl(client.ClientId, evil, OAuthClientSteps.Pkce().Challenge));
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, evil);
            response.Headers.Location.ShouldBeNull();
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Malformed_posts_are_clear_400s(string store)
    {
        var server = await servers.GetAsync(store);
        using var http = server.Client(null);
        foreach (var path in new[] { "/oauth/login", "/oauth/consent" })
        {
            using var json = await http.PostRawAsync(path, "{}");
            json.StatusCode.ShouldBe(HttpStatusCode.BadRequest, path);
        }
        using var token = await http.PostRawAsync("/oauth/token", "{}");
        await ShouldBeOAuthErrorAsync(token, "invalid_request", "x-www-form-urlencoded");
        using var grant = await server.TokenAsync(new() { ["grant_type"] = "password", ["client_id"] = (await server.RegisterAsync()).ClientId });
        await ShouldBeOAuthErrorAsync(grant, "unsupported_grant_type", "password");
        using var register = await http.PostRawAsync("/oauth/register", "[1, 2]");
        await ShouldBeOAuthErrorAsync(register, "invalid_client_metadata", "JSON object");
    }

    private static async Task<Uri> AuthorizeAsync(TestServer server, string clientId, string? challenge, string method = "S256")
    {
        using var browser = new OAuthBrowser(server.Url);
        using var response = await browser.Http.GetAsync(server.AuthorizationUrl(clientId, Redirect, challenge, method: method));
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
        response.Headers.Location!.GetLeftPart(UriPartial.Path).ShouldBe(Redirect);
        OAuthBrowser.Query(response.Headers.Location, "iss").ShouldBe(server.Url.ToString().TrimEnd('/'));
        return response.Headers.Location;
    }

    internal static async Task<(ClientRegistration Client, string Code, string Verifier)> CodeAsync(TestServer server)
    {
        var email = await server.CreateUserAsync($"n-{Guid.NewGuid():N}"[..16]);
        var client = await server.RegisterAsync();
        var (verifier, challenge) = OAuthClientSteps.Pkce();
        using var browser = new OAuthBrowser(server.Url);
        var back = await browser.AuthorizeAsync(server.AuthorizationUrl(client.ClientId, Redirect, challenge), email, OAuthClientSteps.Password);
        return (client, OAuthBrowser.Query(back, "code")!, verifier);
    }

    internal static Task<HttpResponseMessage> RedeemAsync(TestServer server, ClientRegistration client, string code, string verifier) =>
        server.TokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["client_id"] = client.ClientId,
            ["redirect_uri"] = Redirect,
            ["code_verifier"] = verifier,
        });

    internal static async Task ShouldBeOAuthErrorAsync(HttpResponseMessage response, string error, string mentions, HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(status, body);
        var parsed = System.Text.Json.JsonSerializer.Deserialize(body, OAuthJson.Default.OAuthError)!;
        parsed.Error.ShouldBe(error);
        parsed.ErrorDescription.ShouldContain(mentions, Case.Insensitive);
    }
}
