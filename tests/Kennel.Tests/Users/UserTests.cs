using System.Net;
using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Users;
using Kennel.Testing;

namespace Kennel.Tests.Users;

/// <summary>Users over REST: who may manage them, what is validated, and what a role lets a user grant.</summary>
public sealed class UserTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Only_an_installation_admin_manages_users(string store)
    {
        var server = await servers.GetAsync(store);
        var otherAdmin = (await server.Client().CreateApiKeyAsync($"u-{Guid.NewGuid():N}"[..16], Scopes.Admin, Scopes.Read)).Key;
        using var http = server.Client(otherAdmin);
        using var create = await http.PostAsJsonAsync("/v1/users", new CreateUserRequest { Email = "x@example.com", Password = "long enough pw" }, KennelJson.Default.CreateUserRequest);
        create.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        using var reader = server.Client((await server.Client().CreateApiKeyAsync(null, Scopes.Read)).Key);
        using var list = await reader.GetAsync("/v1/users");
        await list.ShouldBeForbiddenAsync(Scopes.Admin);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Bad_input_is_refused_naming_the_field_and_writes_nothing(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        foreach (var (request, field) in new (CreateUserRequest, string)[]
        {
            (new() { Email = "not-an-email", Password = "long enough pw" }, "email"),
            (new() { Email = "ok@example.com", Password = "short" }, "password"),
            (new() { Email = "ok@example.com", Password = "long enough pw", Workspace = "Bad Name" }, "workspace"),
            (new() { Email = "ok@example.com", Password = "long enough pw", Workspace = "team", Role = "god" }, "role"),
        })
        {
            using var response = await admin.PostAsJsonAsync("/v1/users", request, KennelJson.Default.CreateUserRequest);
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await response.ReadProblemAsync()).Field.ShouldBe(field);
        }
        var users = await admin.GetFromJsonAsync("/v1/users", KennelJson.Default.IReadOnlyListUser);
        users!.ShouldNotContain(u => u.Email == "ok@example.com");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_email_is_taken_once(string store)
    {
        var server = await servers.GetAsync(store);
        var email = await server.CreateUserAsync(null);
        using var admin = server.Client();
        using var again = await admin.PostAsJsonAsync("/v1/users", new CreateUserRequest { Email = email.ToUpperInvariant(), Password = "long enough pw" },
            KennelJson.Default.CreateUserRequest);
        again.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await again.ReadProblemAsync()).Code.ShouldBe("user_exists");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_viewer_can_grant_only_read(string store)
    {
        var server = await servers.GetAsync(store);
        var tokens = await server.FullFlowAsync($"v-{Guid.NewGuid():N}"[..16], scope: "mcp:read mcp:chat mcp:write", role: Roles.Viewer);
        tokens.Scope.ShouldBe("mcp:read");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_member_of_two_workspaces_chooses_one_on_the_consent_page(string store)
    {
        var server = await servers.GetAsync(store);
        var first = $"m-{Guid.NewGuid():N}"[..16];
        var second = $"m-{Guid.NewGuid():N}"[..16];
        var email = await server.CreateUserAsync(first);
        using var admin = server.Client();
        using (var added = await admin.PostAsJsonAsync($"/v1/users/{Uri.EscapeDataString(email)}/memberships",
            new SetRoleRequest { Workspace = second, Role = Roles.Viewer }, KennelJson.Default.SetRoleRequest))
        {
            added.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await added.Content.ReadFromJsonAsync(KennelJson.Default.User))!.Memberships.Count.ShouldBe(2);
        }

        var client = await server.RegisterAsync();
        var (verifier, challenge) = OAuthClientSteps.Pkce();
        using var browser = new OAuthBrowser(server.Url);
        var back = await browser.AuthorizeAsync(server.AuthorizationUrl(client.ClientId, client.RedirectUris[0], challenge), email, OAuthClientSteps.Password, workspace: second);
        using var response = await server.TokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = OAuthBrowser.Query(back, "code")!,
            ["client_id"] = client.ClientId,
            ["redirect_uri"] = client.RedirectUris[0],
            ["code_verifier"] = verifier,
        });
        var tokens = (await response.Content.ReadFromJsonAsync(Contracts.OAuth.OAuthJson.Default.TokenResponse))!;
        OAuthClientSteps.Claim(tokens.AccessToken, "workspace").ShouldBe(second);
        tokens.Scope.ShouldBe("mcp:read", "the viewer role in the chosen workspace decides");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Deleting_a_user_revokes_the_tokens_they_authorized(string store)
    {
        var server = await servers.GetAsync(store);
        var workspace = $"d-{Guid.NewGuid():N}"[..16];
        var tokens = await server.FullFlowAsync(workspace);
        using var admin = server.Client();
        var user = (await admin.GetFromJsonAsync("/v1/users", KennelJson.Default.IReadOnlyListUser))!.Single(u => u.Memberships.Any(m => m.Workspace == workspace));

        using var deleted = await admin.DeleteAsync($"/v1/users/{Uri.EscapeDataString(user.Email)}");
        deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        using var refused = await server.InitializeAsync("/mcp", tokens.AccessToken);
        refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task The_login_page_is_plain_html_with_safe_cookies(string store)
    {
        var server = await servers.GetAsync(store);
        var client = await server.RegisterAsync();
        using var browser = new OAuthBrowser(server.Url);
        using var page = await browser.Http.GetAsync(server.AuthorizationUrl(client.ClientId, client.RedirectUris[0], OAuthClientSteps.Pkce().Challenge, state: "<script>x</script>"));
        page.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        page.Headers.GetValues("X-Frame-Options").ShouldBe(["DENY"]);
        var html = await page.Content.ReadAsStringAsync();
        html.ShouldContain("<label for=\"email\">Email</label>");
        html.ShouldNotContain("<script>");
        page.Headers.GetValues("Set-Cookie").ShouldContain(c => c.StartsWith("kennel_csrf=", StringComparison.Ordinal)
            && c.Contains("httponly", StringComparison.OrdinalIgnoreCase) && c.Contains("samesite=strict", StringComparison.OrdinalIgnoreCase));
    }
}
