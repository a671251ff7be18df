using System.Text.Json;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Sessions;
using Kennel.Testing;
using ModelContextProtocol.Protocol;

namespace Kennel.Mcp.Tests;

/// <summary>
/// Secrets through the fleet tools: create-session and the daemon tools take secret names, the sandbox sees the values,
/// and no tool shows a value to anyone, a read-only key least of all.
/// </summary>
public sealed class SecretToolTests(ServersWithWorker servers) : IClassFixture<ServersWithWorker>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_viewer_over_MCP_sees_which_secrets_a_session_and_a_daemon_use_but_never_a_value(string store)
    {
        var server = await servers.GetAsync(store);
        var workspace = $"s-{Guid.NewGuid():N}"[..20];
        var writeKey = await server.NewKeyAsync(workspace, Scopes.Read, Scopes.Write);
        using var rest = server.Client(writeKey);
        var value = $"mcp-{Guid.NewGuid():N}";
        await rest.SetSecretAsync("MCP_TOKEN", value);
        await using var writer = await server.ConnectAsync(writeKey);

        // Printed reversed, so this session's own output does not hold the value the viewer must never see.
        var printed = (await writer.CallAsync("create-session", """{"script": "printenv MCP_TOKEN | rev", "secrets": ["MCP_TOKEN"]}""")).Session();
        (await writer.CallAsync("wait-for-session", $$"""{"id": "{{printed.Id}}", "timeoutMs": 60000}""")).Session().Stdout
            .ShouldBe(string.Concat(value.Reverse()) + "\n");
        var quiet = (await writer.CallAsync("create-session", """{"script": "test -n \"$MCP_TOKEN\"", "secrets": ["MCP_TOKEN"]}""")).Session();
        quiet.Secrets.ShouldBe(["MCP_TOKEN"]);
        var daemon = await writer.CallAsync("create-daemon", """
            {"name": "poster", "workload": {"script": "true", "secrets": ["MCP_TOKEN"]}, "trigger": {"type": "webhook", "signature": "none"}}
            """);
        daemon.StructuredContent!.Value.GetProperty("workload").GetProperty("secrets")[0].GetString().ShouldBe("MCP_TOKEN");

        await using var viewer = await server.ConnectAsync(await server.NewKeyAsync(workspace, Scopes.Read));
        var waited = await viewer.CallAsync("wait-for-session", $$"""{"id": "{{quiet.Id}}", "timeoutMs": 60000}""");
        waited.Session().Status.ShouldBe(SessionStatus.Succeeded, "the workload saw the variable");
        foreach (var result in new[]
        {
            waited,
            await viewer.CallAsync("get-session", $$"""{"id": "{{quiet.Id}}"}"""),
            await viewer.CallAsync("list-sessions", """{"status": "succeeded"}"""),
            await viewer.CallAsync("list-daemons"),
            await viewer.CallAsync("get-daemon", """{"name": "poster"}"""),
        })
        {
            result.IsError.ShouldNotBe(true, result.Text());
            var everything = result.Text() + JsonSerializer.Serialize(result.StructuredContent);
            everything.ShouldContain("MCP_TOKEN");
            everything.ShouldNotContain(value);
        }
        (await viewer.CallAsync("create-session", """{"script": "true", "secrets": ["MCP_TOKEN"]}""")).Failure().Error.ShouldBe("insufficient_scope");
    }

    [Theory]
    [InlineData("create-session", """{"script": "true", "secrets": ["NOT_SET"]}""", "secrets")]
    [InlineData("create-session", """{"script": "true", "secrets": ["1BAD"]}""", "secrets")]
    [InlineData("create-session", """{"script": "true", "env": {"A": "1"}, "secrets": ["A"]}""", "secrets")]
    [InlineData("create-daemon", """{"name": "x", "workload": {"script": "true", "secrets": ["NOT_SET"]}, "trigger": {"type": "schedule", "cron": "@daily"}}""", "workload.secrets")]
    public async Task A_secret_that_is_not_set_or_badly_named_is_invalid_arguments_naming_the_field(string tool, string arguments, string field)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));

        var refused = (await client.CallAsync(tool, arguments)).Failure();

        refused.Error.ShouldBe("invalid_arguments");
        refused.Field.ShouldBe(field);
        (await client.CallAsync("list-sessions")).StructuredContent!.Value.GetProperty("items").GetArrayLength().ShouldBe(0);
        (await client.CallAsync("list-daemons")).StructuredContent!.Value.GetProperty("items").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task Create_session_describes_secrets_and_warns_that_env_is_visible()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(server.AdminKey);

        var properties = (await client.ListToolsAsync()).Single(t => t.Name == "create-session").JsonSchema.GetProperty("properties");

        properties.GetProperty("secrets").GetProperty("description").GetString()!.ShouldContain("secret");
        properties.GetProperty("env").GetProperty("description").GetString()!.ShouldContain("secrets instead");
    }
}
