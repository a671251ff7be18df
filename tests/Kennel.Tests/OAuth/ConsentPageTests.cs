using System.Net;
using System.Net.Http.Json;
using Dapper;
using Kennel.Contracts.OAuth;
using Kennel.Contracts.Users;
using Kennel.Testing;

namespace Kennel.Tests.OAuth;

/// <summary>The consent page shows exactly what a click on Allow grants, and a public client always gets the page.</summary>
public sealed class ConsentPageTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Choosing_a_workspace_whose_role_grants_more_shows_the_consent_page_again_with_those_scopes(string store)
    {
        var server = await servers.GetAsync(store);
        var alpha = $"a-{Guid.NewGuid():N}"[..16];
        var prod = $"p-{Guid.NewGuid():N}"[..16];
        var email = await server.CreateUserAsync(alpha, Roles.Viewer);
        await server.CreateUserAsync(prod, Roles.Owner);
        await server.Server.Database.WriteAsync((connection, transaction) => connection.ExecuteAsync(
            "INSERT INTO memberships (user_id, workspace_id, role, created_at) SELECT u.id, w.id, 'owner', 0 FROM users u, workspaces w " +
            "WHERE u.email = @email AND w.name = @prod", new { email, prod }, transaction), CancellationToken.None);
        var client = await server.RegisterAsync();
        var (verifier, challenge) = OAuthClientSteps.Pkce();
        using var browser = new OAuthBrowser(server.Url);
        using var page = await browser.Http.GetAsync(server.AuthorizationUrl(client.ClientId, client.RedirectUris[0], challenge, scope: "mcp:read mcp:admin"));
        var fields = OAuthBrowser.Fields(await page.Content.ReadAsStringAsync());
        fields["email"] = email;
        fields["password"] = OAuthClientSteps.Password;
        using var login = await browser.Http.PostAsync("/oauth/login", new FormUrlEncodedContent(fields));
        using var consent = await browser.Http.GetAsync(login.Headers.Location);
        var shown = await consent.Content.ReadAsStringAsync();
        shown.ShouldContain("<li><code>mcp:read</code>");
        shown.ShouldNotContain("<li><code>mcp:admin</code>", customMessage: "a viewer in the first workspace cannot grant admin");

        var answer = OAuthBrowser.Fields(shown);
        answer["workspace"] = prod;
        answer["decision"] = "allow";
        using var again = await browser.Http.PostAsync("/oauth/consent", new FormUrlEncodedContent(answer));
        again.StatusCode.ShouldBe(HttpStatusCode.OK, "Allow on a page that did not show mcp:admin must not grant it");
        var reshown = await again.Content.ReadAsStringAsync();
        reshown.ShouldContain("<li><code>mcp:admin</code>");
        reshown.ShouldContain($"Workspace: <strong>{prod}</strong>");

        var confirmed = OAuthBrowser.Fields(reshown);
        confirmed["decision"] = "allow";
        using var back = await browser.Http.PostAsync("/oauth/consent", new FormUrlEncodedContent(confirmed));
        back.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        using var token = await server.TokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = OAuthBrowser.Query(back.Headers.Location!, "code")!,
            ["client_id"] = client.ClientId,
            ["redirect_uri"] = client.RedirectUris[0],
            ["code_verifier"] = verifier,
        });
        (await token.Content.ReadFromJsonAsync(OAuthJson.Default.TokenResponse))!.Scope.ShouldBe("mcp:read mcp:admin");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_public_client_gets_the_consent_page_every_time_even_when_consent_is_remembered(string store)
    {
        var server = await servers.GetAsync(store);
        var email = await server.CreateUserAsync($"m-{Guid.NewGuid():N}"[..16]);
        var client = await server.RegisterAsync();
        using var browser = new OAuthBrowser(server.Url);
        var url = server.AuthorizationUrl(client.ClientId, client.RedirectUris[0], OAuthClientSteps.Pkce().Challenge);
        OAuthBrowser.Query(await browser.AuthorizeAsync(url, email, OAuthClientSteps.Password), "code").ShouldNotBeNull();

        using var again = await browser.Http.GetAsync(url);
        again.StatusCode.ShouldBe(HttpStatusCode.OK, "a public client never skips the consent page");
        var html = await again.Content.ReadAsStringAsync();
        html.ShouldContain("Allow access?");
        var answer = OAuthBrowser.Fields(html);
        answer["decision"] = "allow";
        using var back = await browser.Http.PostAsync("/oauth/consent", new FormUrlEncodedContent(answer));
        back.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        OAuthBrowser.Query(back.Headers.Location!, "code").ShouldNotBeNull("one click");
    }
}
