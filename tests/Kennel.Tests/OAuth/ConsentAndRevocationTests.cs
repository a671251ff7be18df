using System.Net;
using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.OAuth;
using Kennel.Contracts.Users;
using Kennel.Testing;

namespace Kennel.Tests.OAuth;

/// <summary>Consent is asked once per client, user, workspace and scopes; consents and tokens can be revoked.</summary>
public sealed class ConsentAndRevocationTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Consent_is_remembered_until_it_is_revoked(string store)
    {
        var server = await servers.GetAsync(store);
        var email = await server.CreateUserAsync($"c-{Guid.NewGuid():N}"[..16]);
        var client = await server.RegisterAsync("https://app.example.com/callback", "client_secret_post");
        using var browser = new OAuthBrowser(server.Url);
        var url = server.AuthorizationUrl(client.ClientId, client.RedirectUris[0], OAuthClientSteps.Pkce().Challenge);
        OAuthBrowser.Query(await browser.AuthorizeAsync(url, email, OAuthClientSteps.Password), "code").ShouldNotBeNull();

        using (var remembered = await browser.Http.GetAsync(url))
        {
            remembered.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            OAuthBrowser.Query(remembered.Headers.Location!, "code").ShouldNotBeNull();
        }
        using (var moreScopes = await browser.Http.GetAsync(server.AuthorizationUrl(client.ClientId, client.RedirectUris[0], OAuthClientSteps.Pkce().Challenge, scope: "mcp:read")))
        {
            moreScopes.StatusCode.ShouldBe(HttpStatusCode.OK, "another scope set asks again");
            (await moreScopes.Content.ReadAsStringAsync()).ShouldContain("Allow access?");
        }

        using var admin = server.Client();
        using (var revoked = await admin.DeleteAsync($"/v1/users/{Uri.EscapeDataString(email)}/consents"))
        {
            revoked.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }
        using var askedAgain = await browser.Http.GetAsync(url);
        askedAgain.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await askedAgain.Content.ReadAsStringAsync()).ShouldContain("Test client");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task The_consent_page_names_the_client_the_redirect_host_the_scopes_and_the_workspace(string store)
    {
        var server = await servers.GetAsync(store);
        var workspace = $"p-{Guid.NewGuid():N}"[..16];
        var email = await server.CreateUserAsync(workspace);
        var client = await server.RegisterAsync("https://app.example.net/callback");
        using var browser = new OAuthBrowser(server.Url);
        using var page = await browser.Http.GetAsync(server.AuthorizationUrl(client.ClientId, client.RedirectUris[0], OAuthClientSteps.Pkce().Challenge,
            $"/w/{workspace}/mcp", "mcp:read mcp:write mcp:admin"));
        var fields = OAuthBrowser.Fields(await page.Content.ReadAsStringAsync());
        fields["email"] = email;
        fields["password"] = OAuthClientSteps.Password;
        using var login = await browser.Http.PostAsync("/oauth/login", new FormUrlEncodedContent(fields));
        var session = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("kennel_session=", StringComparison.Ordinal));
        session.ShouldContain("httponly", Case.Insensitive);
        session.ShouldContain("samesite=lax", Case.Insensitive);
        session.ShouldNotContain("secure", Case.Insensitive, "the issuer is loopback http");

        var consent = await (await browser.Http.GetAsync(login.Headers.Location)).Content.ReadAsStringAsync();
        consent.ShouldContain("Test client");
        consent.ShouldContain("app.example.net");
        consent.ShouldContain(workspace);
        consent.ShouldContain("<code>mcp:read</code>");
        consent.ShouldContain("<code>mcp:write</code>");
        consent.ShouldContain("Not granted, because your role does not allow it: mcp:admin");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Denying_consent_redirects_with_access_denied_and_state(string store)
    {
        var server = await servers.GetAsync(store);
        var email = await server.CreateUserAsync($"c-{Guid.NewGuid():N}"[..16]);
        var client = await server.RegisterAsync();
        using var browser = new OAuthBrowser(server.Url);
        var back = await browser.AuthorizeAsync(server.AuthorizationUrl(client.ClientId, client.RedirectUris[0], OAuthClientSteps.Pkce().Challenge), email,
            OAuthClientSteps.Password, allow: false);
        OAuthBrowser.Query(back, "error").ShouldBe("access_denied");
        OAuthBrowser.Query(back, "state").ShouldBe("xyz");
        OAuthBrowser.Query(back, "code").ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Revoking_a_refresh_token_or_an_access_token_ends_the_grant(string store)
    {
        var server = await servers.GetAsync(store);
        foreach (var byRefresh in new[] { true, false })
        {
            var (tokens, clientId) = await TokenFlowTests.FlowAsync(server);
            using var http = server.Client(null);
            using var revoke = await http.PostAsync("/oauth/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["token"] = byRefresh ? tokens.RefreshToken! : tokens.AccessToken,
                ["client_id"] = clientId,
            }));
            revoke.StatusCode.ShouldBe(HttpStatusCode.OK);
            using var access = await server.InitializeAsync("/mcp", tokens.AccessToken);
            access.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            using var refresh = await server.TokenAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.RefreshToken!, ["client_id"] = clientId });
            await NegativeBatteryTests.ShouldBeOAuthErrorAsync(refresh, "invalid_grant", "revoked");
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Another_client_cannot_revoke_or_redeem_a_token_it_was_not_issued(string store)
    {
        var server = await servers.GetAsync(store);
        var (tokens, owner) = await TokenFlowTests.FlowAsync(server);
        var intruder = await server.RegisterAsync();
        using var http = server.Client(null);
        using var revoke = await http.PostAsync("/oauth/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = tokens.RefreshToken!,
            ["client_id"] = intruder.ClientId,
        }));
        revoke.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var stillValid = await server.InitializeAsync("/mcp", tokens.AccessToken);
        stillValid.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var stolen = await server.TokenAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.RefreshToken!, ["client_id"] = intruder.ClientId });
        await NegativeBatteryTests.ShouldBeOAuthErrorAsync(stolen, "invalid_grant", "another client");
        using var own = await server.TokenAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.RefreshToken!, ["client_id"] = owner });
        own.StatusCode.ShouldBe(HttpStatusCode.OK, "the intruder's attempt did not use up the owner's token");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_new_password_revoked_consents_or_a_deleted_user_end_browser_sign_ins_and_tokens(string store)
    {
        var server = await servers.GetAsync(store);
        foreach (var action in new[] { "passwd", "revoke-consents", "delete" })
        {
            var email = await server.CreateUserAsync($"h-{Guid.NewGuid():N}"[..16]);
            var client = await server.RegisterAsync();
            var (verifier, challenge) = OAuthClientSteps.Pkce();
            using var browser = new OAuthBrowser(server.Url);
            var url = server.AuthorizationUrl(client.ClientId, client.RedirectUris[0], challenge);
            var back = await browser.AuthorizeAsync(url, email, OAuthClientSteps.Password);
            using var redeemed = await server.TokenAsync(new()
            {
                ["grant_type"] = "authorization_code",
                ["code"] = OAuthBrowser.Query(back, "code")!,
                ["client_id"] = client.ClientId,
                ["redirect_uri"] = client.RedirectUris[0],
                ["code_verifier"] = verifier,
            });
            var tokens = (await redeemed.Content.ReadFromJsonAsync(OAuthJson.Default.TokenResponse))!;
            using (var signedIn = await browser.Http.GetAsync(url))
            {
                (await signedIn.Content.ReadAsStringAsync()).ShouldNotContain("action=\"/oauth/login\"", customMessage: "signed in before");
            }

            using var admin = server.Client();
            var path = $"/v1/users/{Uri.EscapeDataString(email)}";
            using var done = action switch
            {
                "passwd" => await admin.PostAsJsonAsync($"{path}/password", new ChangePasswordRequest { Password = "a brand new password" }, KennelJson.Default.ChangePasswordRequest),
                "revoke-consents" => await admin.DeleteAsync($"{path}/consents"),
                _ => await admin.DeleteAsync(path),
            };
            done.IsSuccessStatusCode.ShouldBeTrue(action);

            using var page = await browser.Http.GetAsync(url);
            page.StatusCode.ShouldBe(HttpStatusCode.OK, action);
            (await page.Content.ReadAsStringAsync()).ShouldContain("action=\"/oauth/login\"", customMessage: $"{action}: the browser must sign in again");
            using var access = await server.InitializeAsync("/mcp", tokens.AccessToken);
            access.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, action);
            using var refresh = await server.TokenAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.RefreshToken!, ["client_id"] = client.ClientId });
            await NegativeBatteryTests.ShouldBeOAuthErrorAsync(refresh, "invalid_grant", "revoked");
        }
    }
}
