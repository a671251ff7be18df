using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Mcp.Tests;

/// <summary>What a credential may not do, and what bad input gets: tool errors a model can act on, never a crash.</summary>
public sealed class RefusalTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_read_only_key_does_not_see_write_or_admin_tools_and_is_refused_them(string store)
    {
        var server = await servers.GetAsync(store);
        await using var reader = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read));

        var names = (await reader.ListToolsAsync()).Select(t => t.Name).ToList();
        names.ShouldBe(["list-sessions", "get-session", "wait-for-session", "list-snapshots", "fleet-overview", "list-daemons", "get-daemon", "cost-summary"],
            ignoreOrder: true);

        var refused = (await reader.CallAsync("create-session", """{"script": "echo sneaky"}""")).Failure();
        refused.Error.ShouldBe("insufficient_scope");
        refused.Message.ShouldBe("Missing scopes: mcp:write");
        (await reader.CallAsync("list-workers")).Failure().Error.ShouldBe("workspace_forbidden");
        (await reader.CallAsync("list-sessions")).StructuredContent!.Value.GetProperty("items").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task A_write_only_key_can_create_and_cancel_but_not_read()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var writer = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Write));

        (await writer.ListToolsAsync()).Select(t => t.Name).ShouldBe(
            ["create-session", "cancel-session", "build-snapshot", "create-daemon", "update-daemon", "delete-daemon", "trigger-webhook"], ignoreOrder: true);
        var session = (await writer.CallAsync("create-session", """{"script": "true"}""")).Session();
        (await writer.CallAsync("cancel-session", $$"""{"id": "{{session.Id}}"}""")).Session().Status.ShouldBe(SessionStatus.Cancelled);
        (await writer.CallAsync("get-session", $$"""{"id": "{{session.Id}}"}""")).Failure().Error.ShouldBe("insufficient_scope");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_admin_of_another_workspace_is_not_offered_list_workers_and_is_refused_it(string store)
    {
        var server = await servers.GetAsync(store);
        await using var admin = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write, Scopes.Admin));
        await using var reader = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read));

        var names = (await admin.ListToolsAsync()).Select(t => t.Name).ToList();
        names.ShouldNotContain("list-workers");
        names.Count.ShouldBe(15, "every fleet tool but list-workers");
        var refused = (await admin.CallAsync("list-workers")).Failure();
        refused.Error.ShouldBe("workspace_forbidden");
        refused.Message.ShouldContain("'default' workspace");
        // No scope would open it to another workspace, so that, not a missing scope, is what a reader is told.
        (await reader.CallAsync("list-workers")).Failure().Error.ShouldBe("workspace_forbidden");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Every_listed_tool_can_be_called_by_the_key_that_lists_it(string store)
    {
        var server = await servers.GetAsync(store);
        var keys = new[]
        {
            server.AdminKey,
            await server.NewKeyAsync("default", Scopes.Read),
            await server.NewKeyAsync(null, Scopes.Read, Scopes.Write, Scopes.Admin),
            await server.NewKeyAsync(null, Scopes.Admin),
            await server.NewKeyAsync(null, Scopes.Read),
        };
        foreach (var key in keys)
        {
            await using var client = await server.ConnectAsync(key);
            foreach (var tool in await client.ListToolsAsync())
            {
                var answer = await client.CallAsync(tool.Name);
                if (answer.IsError == true)
                {
                    answer.Failure().Error.ShouldBeOneOf(["invalid_arguments", "not_found"], $"{tool.Name}: {Mcp.Text(answer)}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Another_workspace_cannot_see_get_wait_for_or_cancel_a_session(string store)
    {
        var server = await servers.GetAsync(store);
        await using var owner = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));
        await using var stranger = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));
        var session = (await owner.CallAsync("create-session", """{"script": "echo secret"}""")).Session();

        foreach (var tool in new[] { "get-session", "wait-for-session", "cancel-session" })
        {
            var arguments = tool == "wait-for-session" ? $$"""{"id": "{{session.Id}}", "timeoutMs": 0}""" : $$"""{"id": "{{session.Id}}"}""";
            var refused = (await stranger.CallAsync(tool, arguments)).Failure();
            refused.Error.ShouldBe("not_found", tool);
            refused.Message.ShouldNotContain("secret");
        }
        (await stranger.CallAsync("list-sessions")).StructuredContent!.Value.GetProperty("items").GetArrayLength().ShouldBe(0);
        (await stranger.CallAsync("fleet-overview")).StructuredContent!.Value.GetProperty("queueDepth").GetInt64().ShouldBe(0);
        (await owner.CallAsync("fleet-overview")).StructuredContent!.Value.GetProperty("queueDepth").GetInt64().ShouldBe(1);
        (await owner.CallAsync("get-session", $$"""{"id": "{{session.Id}}"}""")).Session().Status.ShouldBe(SessionStatus.Pending);
    }

    [Theory]
    [InlineData("get-session", "{}", null)]
    [InlineData("get-session", """{"id": 42}""", null)]
    [InlineData("list-sessions", """{"limit": "many"}""", null)]
    [InlineData("list-sessions", """{"limit": 0}""", "limit")]
    [InlineData("list-sessions", """{"status": "sleeping"}""", "status")]
    [InlineData("list-sessions", """{"cursor": "not-a-cursor"}""", "cursor")]
    [InlineData("create-session", "{}", "script")]
    [InlineData("create-session", """{"script": "true", "command": ["true"]}""", "command")]
    [InlineData("create-session", """{"script": "true", "timeoutMs": 1}""", "timeoutMs")]
    [InlineData("create-session", """{"script": "true", "snapshot": "no-such-image"}""", "snapshot")]
    [InlineData("create-session", """{"script": "true", "network": {"mode": "host"}}""", "network.mode")]
    [InlineData("create-session", """{"script": "true", "resources": {"vcpus": 1000}}""", "resources.vcpus")]
    [InlineData("create-session", """{"script": "true", "env": {"1BAD": "x"}}""", "env.1BAD")]
    [InlineData("create-session", """{"script": "true", "env": ["not", "an", "object"]}""", null)]
    [InlineData("wait-for-session", """{"id": "ses_x", "timeoutMs": 99999999}""", "timeoutMs")]
    [InlineData("cancel-session", """{"id": null}""", "id")]
    [InlineData("get-session", """{"id": ""}""", "id")]
    public async Task Bad_arguments_give_invalid_arguments(string tool, string arguments, string? field)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(server.AdminKey);

        var refused = (await client.CallAsync(tool, arguments)).Failure();

        refused.Error.ShouldBe("invalid_arguments");
        refused.Field.ShouldBe(field);
        refused.Message.ShouldNotContain("System.");
        refused.Message.ShouldNotContain("   at ");
    }

    [Theory]
    [InlineData("get-session")]
    [InlineData("wait-for-session")]
    [InlineData("cancel-session")]
    public async Task An_unknown_session_id_is_not_found(string tool)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(server.AdminKey);

        foreach (var id in new[] { "ses_00000000000000000000000000", "nope" })
        {
            (await client.CallAsync(tool, $$"""{"id": "{{id}}"}""")).Failure().Error.ShouldBe("not_found");
        }
    }

    [Fact]
    public async Task An_unknown_tool_is_a_tool_error()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(server.AdminKey);

        (await client.CallAsync("launch-missiles")).Failure().Error.ShouldBe("unknown_tool");
    }

    [Fact]
    public async Task Wait_for_session_returns_the_session_as_it_stands_when_its_timeout_passes()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));
        var session = (await client.CallAsync("create-session", """{"script": "true"}""")).Session();

        var waited = (await client.CallAsync("wait-for-session", $$"""{"id": "{{session.Id}}", "timeoutMs": 1500}""")).Session();

        waited.Status.ShouldBe(SessionStatus.Pending);
    }

    [Fact]
    public async Task Wait_for_session_stops_when_the_client_cancels()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));
        var session = (await client.CallAsync("create-session", """{"script": "true"}""")).Session();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));

        var started = System.Diagnostics.Stopwatch.StartNew();
        await Should.ThrowAsync<OperationCanceledException>(async () =>
            await client.CallToolAsync("wait-for-session", Mcp.Arguments($$"""{"id": "{{session.Id}}", "timeoutMs": 300000}"""), cancellationToken: cancel.Token));

        started.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10));
        (await client.CallAsync("get-session", $$"""{"id": "{{session.Id}}"}""")).Session().Status.ShouldBe(SessionStatus.Pending);
    }
}
