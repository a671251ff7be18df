using Kennel.Contracts.Users;
using Kennel.Testing;

namespace Kennel.Mcp.Tests.OAuth;

/// <summary>An access token's scopes decide its tools, as an API key's do; API keys keep working beside tokens.</summary>
public sealed class TokenScopeTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_read_only_token_is_refused_a_write_tool_naming_the_missing_scope(string store)
    {
        var server = await servers.GetAsync(store);
        var tokens = await server.FullFlowAsync($"s-{Guid.NewGuid():N}"[..16], scope: "mcp:read", role: Roles.Viewer);
        await using var client = await server.ConnectAsync(tokens.AccessToken);

        var tools = await client.ListToolsAsync();
        tools.Select(t => t.Name).ShouldContain("list-sessions");
        tools.Select(t => t.Name).ShouldNotContain("create-session");
        var refused = (await client.CallAsync("create-session", """{"script": "true"}""")).Failure();
        refused.Error.ShouldBe("insufficient_scope");
        refused.Message.ShouldBe("Missing scopes: mcp:write");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Api_keys_keep_working_beside_tokens(string store)
    {
        var server = await servers.GetAsync(store);
        var workspace = $"s-{Guid.NewGuid():N}"[..16];
        var tokens = await server.FullFlowAsync(workspace, scope: "mcp:read mcp:chat mcp:write");
        var key = await server.NewKeyAsync(workspace, "mcp:read", "mcp:write");
        await using var byToken = await server.ConnectAsync(tokens.AccessToken);
        await using var byKey = await server.ConnectAsync(key);

        var created = (await byKey.CallAsync("create-session", """{"script": "true"}""")).Session();
        var seen = (await byToken.CallAsync("get-session", $$"""{"id": "{{created.Id}}"}""")).Session();
        seen.Id.ShouldBe(created.Id);
    }
}
