using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Sessions;
using Kennel.Testing;
using ModelContextProtocol.Client;

namespace Kennel.Mcp.Tests;

/// <summary>The daemon and cost tools end to end: the SDK client, real HTTP, the real store and the real bubblewrap worker.</summary>
public sealed class DaemonToolTests(ServersWithWorker servers) : IClassFixture<ServersWithWorker>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_daemon_created_over_MCP_runs_when_triggered_and_shows_its_history(string store)
    {
        var server = await servers.GetAsync(store);
        await using var client = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));

        var created = await client.CallAsync("create-daemon", """
            {"name": "pr-reviewer", "description": "Reviews pull requests",
             "workload": {"script": "echo \"$KENNEL_TRIGGER_TYPE\"; cat \"$KENNEL_TRIGGER_PAYLOAD\"", "env": {"MODE": "review"}},
             "trigger": {"type": "webhook", "signature": "hmac-sha256", "secret": "s3cret-for-hmac"},
             "resources": {"vcpus": 1, "memoryMb": 128}, "timeoutMs": 30000, "concurrency": "queue"}
            """);
        created.IsError.ShouldNotBe(true, created.Text());
        var daemon = created.StructuredContent!.Value;
        daemon.GetProperty("name").GetString().ShouldBe("pr-reviewer");
        daemon.GetProperty("trigger").GetProperty("secretSet").GetBoolean().ShouldBeTrue();
        created.Text().ShouldNotContain("s3cret-for-hmac");
        JsonSerializer.Serialize(daemon).ShouldNotContain("s3cret-for-hmac");

        // A payload as a JSON value, and as a string holding JSON (how seed 000's tool sent it): both arrive as the same JSON.
        var asValue = (await client.CallAsync("trigger-webhook", """{"name": "pr-reviewer", "payload": {"pr": 7}}""")).StructuredContent!.Value;
        var asString = (await client.CallAsync("trigger-webhook", """{"name": "pr-reviewer", "payload": "{\"pr\": 8}"}""")).StructuredContent!.Value;
        asValue.GetProperty("outcome").GetString().ShouldBe("started");
        asString.GetProperty("outcome").GetString().ShouldBeOneOf("started", "queued");

        var first = (await client.CallAsync("wait-for-session", $$"""{"id": "{{asValue.GetProperty("sessionId").GetString()}}", "timeoutMs": 60000}""")).Session();
        var second = (await client.CallAsync("wait-for-session", $$"""{"id": "{{asString.GetProperty("sessionId").GetString()}}", "timeoutMs": 60000}""")).Session();
        first.Status.ShouldBe(SessionStatus.Succeeded, first.Stderr);
        first.Stdout.ShouldBe("manual\n{\"pr\":7}");
        second.Stdout.ShouldBe("manual\n{\"pr\":8}");
        first.Daemon.ShouldBe("pr-reviewer");
        first.Trigger.ShouldBe("manual");

        var got = (await client.CallAsync("get-daemon", """{"name": "pr-reviewer"}""")).StructuredContent!.Value;
        got.GetProperty("recentSessions").GetArrayLength().ShouldBe(2);
        got.GetProperty("totals").GetProperty("succeeded").GetInt64().ShouldBe(2);
        var listed = (await client.CallAsync("list-daemons")).StructuredContent!.Value.GetProperty("items");
        listed.EnumerateArray().Select(d => d.GetProperty("name").GetString()).ShouldBe(["pr-reviewer"]);

        var cost = (await client.CallAsync("cost-summary", """{"groupBy": "daemon"}""")).StructuredContent!.Value;
        var group = cost.GetProperty("groups").EnumerateArray().Single();
        group.GetProperty("daemon").GetString().ShouldBe("pr-reviewer");
        group.GetProperty("sessions").GetInt64().ShouldBe(2);
        group.GetProperty("vcpuSeconds").GetDouble().ShouldBeGreaterThan(0);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Update_pauses_and_changes_a_daemon_and_delete_removes_it(string store)
    {
        var server = await servers.GetAsync(store);
        await using var client = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));
        (await client.CallAsync("create-daemon", """
            {"name": "nightly", "workload": {"command": ["true"]}, "trigger": {"type": "schedule", "cron": "30 2 * * *", "timezone": "Europe/Berlin"}}
            """)).IsError.ShouldNotBe(true);

        var paused = (await client.CallAsync("update-daemon", """{"name": "nightly", "status": "paused", "description": "on hold"}""")).StructuredContent!.Value;
        paused.GetProperty("status").GetString().ShouldBe("paused");
        paused.GetProperty("description").GetString().ShouldBe("on hold");
        paused.GetProperty("trigger").TryGetProperty("nextRunAt", out _).ShouldBeFalse();
        var resumed = (await client.CallAsync("update-daemon", """{"name": "nightly", "status": "active", "trigger": {"type": "schedule", "cron": "@hourly"}}""")).StructuredContent!.Value;
        resumed.GetProperty("trigger").GetProperty("cron").GetString().ShouldBe("@hourly");
        resumed.GetProperty("trigger").GetProperty("nextRunAt").GetDateTimeOffset().Minute.ShouldBe(0);

        (await client.CallAsync("delete-daemon", """{"name": "nightly"}""")).StructuredContent!.Value.GetProperty("deleted").GetBoolean().ShouldBeTrue();
        (await client.CallAsync("get-daemon", """{"name": "nightly"}""")).Failure().Error.ShouldBe("not_found");
    }

    [Theory]
    [InlineData("""{"name": "Bad Name", "workload": {"script": "true"}, "trigger": {"type": "schedule", "cron": "@daily"}}""", "name")]
    [InlineData("""{"name": "x", "workload": {"script": "true"}, "trigger": {"type": "schedule", "cron": "99 * * * *"}}""", "trigger.cron")]
    [InlineData("""{"name": "x", "workload": {"script": "true"}, "trigger": {"type": "webhook"}}""", "trigger.signature")]
    [InlineData("""{"name": "x", "workload": {"script": "true"}, "trigger": {"type": "schedule", "cron": "@daily"}, "concurrency": "maybe"}""", "concurrency")]
    public async Task A_bad_definition_is_invalid_arguments_naming_the_field(string arguments, string field)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));

        var failure = (await client.CallAsync("create-daemon", arguments)).Failure();

        failure.Error.ShouldBe("invalid_arguments");
        failure.Field.ShouldBe(field);
        (await client.CallAsync("list-daemons")).StructuredContent!.Value.GetProperty("items").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task A_read_only_key_can_list_but_not_create_or_trigger()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var reader = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read));

        (await reader.CallAsync("list-daemons")).IsError.ShouldNotBe(true);
        (await reader.CallAsync("create-daemon", """{"name": "x", "workload": {"script": "true"}, "trigger": {"type": "schedule", "cron": "@daily"}}"""))
            .Failure().Error.ShouldBe("insufficient_scope");
        (await reader.CallAsync("trigger-webhook", """{"name": "x"}""")).Failure().Error.ShouldBe("insufficient_scope");
    }
}
