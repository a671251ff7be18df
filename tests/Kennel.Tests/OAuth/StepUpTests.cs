using System.Net;
using System.Text;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Users;
using Kennel.Testing;

namespace Kennel.Tests.OAuth;

/// <summary>
/// A tool call a token lacks scopes for: 403 with an insufficient_scope challenge when a new authorization could grant
/// them (MCP authorization, runtime insufficient scope), the tool error in band otherwise and for API keys.
/// </summary>
public sealed class StepUpTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_token_calling_a_tool_it_lacks_a_grantable_scope_for_gets_403_with_the_challenge(string store)
    {
        var server = await servers.GetAsync(store);
        var issuer = server.Url.ToString().TrimEnd('/');
        var tokens = await server.FullFlowAsync($"s-{Guid.NewGuid():N}"[..16]);
        tokens.Scope.ShouldBe("mcp:read mcp:chat");

        using var refused = await server.CallAsync(tokens.AccessToken, "tools/call", """{"name": "create-session", "arguments": {"script": "true"}}""");
        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        refused.Headers.WwwAuthenticate.ToString().ShouldBe(
            $"Bearer error=\"insufficient_scope\", scope=\"mcp:read mcp:chat mcp:write\", resource_metadata=\"{issuer}/.well-known/oauth-protected-resource/mcp\", " +
            "error_description=\"Missing scopes: mcp:write\"");
        (await refused.Content.ReadAsStringAsync()).ShouldContain("Missing scopes: mcp:write");

        using var listed = await server.CallAsync(tokens.AccessToken, "tools/list", "{}");
        listed.StatusCode.ShouldBe(HttpStatusCode.OK, "tools/list hides the tool rather than refusing");
        (await listed.Content.ReadAsStringAsync()).ShouldNotContain("\"create-session\"");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_api_key_or_a_user_whose_role_cannot_grant_the_scope_gets_the_tool_error_in_band(string store)
    {
        var server = await servers.GetAsync(store);
        var viewer = await server.FullFlowAsync($"s-{Guid.NewGuid():N}"[..16], role: Roles.Viewer);
        var key = (await server.Client().CreateApiKeyAsync(null, Scopes.Read)).Key;
        foreach (var credential in new[] { viewer.AccessToken, key })
        {
            using var refused = await server.CallAsync(credential, "tools/call", """{"name": "create-session", "arguments": {"script": "true"}}""");
            refused.StatusCode.ShouldBe(HttpStatusCode.OK);
            refused.Headers.WwwAuthenticate.ShouldBeEmpty();
            var events = await refused.Content.ReadAsStringAsync();
            events.ShouldContain("\"isError\":true");
            events.ShouldContain("\\u0022error\\u0022:\\u0022insufficient_scope\\u0022,\\u0022message\\u0022:\\u0022Missing scopes: mcp:write\\u0022");
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_admin_of_another_workspace_is_not_challenged_for_a_tool_no_scope_opens_to_it(string store)
    {
        var server = await servers.GetAsync(store);
        var admin = await server.FullFlowAsync($"s-{Guid.NewGuid():N}"[..16], role: Roles.Admin);

        using var refused = await server.CallAsync(admin.AccessToken, "tools/call", """{"name": "list-workers"}""");

        refused.StatusCode.ShouldBe(HttpStatusCode.OK);
        refused.Headers.WwwAuthenticate.ShouldBeEmpty();
        (await refused.Content.ReadAsStringAsync()).ShouldContain("\\u0022error\\u0022:\\u0022workspace_forbidden\\u0022");
    }

    /// <summary>Initializes a session with <paramref name="credential"/>, then sends one request on it.</summary>
}
