using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Sessions;
using Kennel.Testing;
using ModelContextProtocol;

namespace Kennel.Mcp.Tests;

/// <summary>The fleet tools end to end: the SDK client, real HTTP, the real store and the real bubblewrap worker.</summary>
public sealed class ToolTests(ServersWithWorker servers) : IClassFixture<ServersWithWorker>
{
    // test-connection and add-server reach machines outside Kennel (open world); all change what Kennel keeps but list-servers.
    private static readonly string[] ServerToolNames = ["test-connection", "add-server", "add-server-ec2", "list-servers", "delete-server"];
    private static readonly string[] OpenWorldToolNames = ["test-connection", "add-server", "add-server-ec2", "build-snapshot"];

    private static readonly string[] FleetToolNames =
        ["list-sessions", "create-session", "get-session", "cancel-session", "wait-for-session", "list-snapshots", "build-snapshot", "fleet-overview", "list-workers",
         "list-daemons", "get-daemon", "create-daemon", "update-daemon", "delete-daemon", "trigger-webhook", "cost-summary", .. ServerToolNames];

    private static readonly string[] WriteToolNames =
        ["create-session", "cancel-session", "build-snapshot", "create-daemon", "update-daemon", "delete-daemon", "trigger-webhook", "test-connection", "add-server", "add-server-ec2", "delete-server"];

    [Fact]
    public async Task An_admin_sees_every_fleet_tool_with_title_description_schemas_and_hints()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(server.AdminKey);

        var tools = await client.ListToolsAsync();

        tools.Select(t => t.Name).ShouldBe(FleetToolNames, ignoreOrder: true);
        foreach (var tool in tools)
        {
            tool.Title.ShouldNotBeNullOrWhiteSpace(tool.Name);
            tool.Description.Length.ShouldBeGreaterThan(60, tool.Name);
            tool.ProtocolTool.OutputSchema.ShouldNotBeNull(tool.Name);
            var hints = tool.ProtocolTool.Annotations!;
            hints.OpenWorldHint.ShouldBe(OpenWorldToolNames.Contains(tool.Name), tool.Name);
            hints.ReadOnlyHint.ShouldBe(!WriteToolNames.Contains(tool.Name), tool.Name);
        }
        var annotations = tools.ToDictionary(t => t.Name, t => t.ProtocolTool.Annotations!);
        annotations["cancel-session"].DestructiveHint.ShouldBe(true);
        annotations["create-session"].DestructiveHint.ShouldBe(false);
        annotations["create-session"].IdempotentHint.ShouldBe(false);
        annotations["get-session"].IdempotentHint.ShouldBe(true);

        var create = tools.Single(t => t.Name == "create-session").JsonSchema.GetProperty("properties");
        foreach (var property in new[] { "snapshot", "script", "command", "env", "timeoutMs", "resources", "network", "metadata" })
        {
            create.GetProperty(property).GetProperty("description").GetString().ShouldNotBeNullOrWhiteSpace(property);
        }
        create.GetProperty("timeoutMs").GetProperty("default").GetInt64().ShouldBe(600_000);
        var limit = tools.Single(t => t.Name == "list-sessions").JsonSchema.GetProperty("properties").GetProperty("limit");
        limit.GetProperty("minimum").GetInt32().ShouldBe(1);
        limit.GetProperty("maximum").GetInt32().ShouldBe(200);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_session_created_over_MCP_runs_and_wait_for_session_reports_progress_and_returns_the_outcome(string store)
    {
        var server = await servers.GetAsync(store);
        await using var client = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));

        var created = (await client.CallAsync("create-session", """
            {"script": "echo hello; sleep 1; echo oops >&2; exit 3", "env": {"GREETING": "hi"}, "timeoutMs": 30000,
             "resources": {"vcpus": 1, "memoryMb": 128}, "network": {"mode": "none"}, "metadata": {"ticket": "K-1"}}
            """)).Session();
        created.Status.ShouldBe(SessionStatus.Pending);
        created.Metadata["ticket"].ShouldBe("K-1");
        created.Resources.MemoryMb.ShouldBe(128);

        var notes = new List<ProgressNotificationValue>();
        var waited = await client.CallAsync("wait-for-session", $$"""{"id": "{{created.Id}}", "timeoutMs": 60000}""", new Recorder(notes));
        var final = waited.Session();

        final.Status.ShouldBe(SessionStatus.Failed);
        final.ExitCode.ShouldBe(3);
        final.Stdout.ShouldBe("hello\n");
        final.Stderr.ShouldBe("oops\n");
        waited.Text().ShouldContain("exit code 3");
        waited.Text().ShouldContain("hello");
        notes.ShouldNotBeEmpty();
        notes.Select(n => n.Message).ShouldContain(m => m!.StartsWith("pending", StringComparison.Ordinal) || m.StartsWith("running", StringComparison.Ordinal));

        var fetched = (await client.CallAsync("get-session", $$"""{"id": "{{created.Id}}"}""")).Session();
        fetched.Status.ShouldBe(SessionStatus.Failed);
        fetched.Env["GREETING"].ShouldBe("hi");

        var page = await client.CallAsync("list-sessions", """{"status": "failed", "limit": 5}""");
        page.IsError.ShouldNotBe(true);
        page.StructuredContent!.Value.GetProperty("items")[0].GetProperty("id").GetString().ShouldBe(created.Id);
        page.Text().ShouldContain(created.Id);
    }

    [Fact]
    public async Task A_command_session_succeeds()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));

        var created = (await client.CallAsync("create-session", """{"command": ["/bin/echo", "argv", "works"]}""")).Session();
        var final = (await client.CallAsync("wait-for-session", $$"""{"id": "{{created.Id}}"}""")).Session();

        final.Status.ShouldBe(SessionStatus.Succeeded);
        final.Stdout.ShouldBe("argv works\n");
    }

    [Fact]
    public async Task Cancelling_a_running_session_ends_it_as_cancelled()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));
        var created = (await client.CallAsync("create-session", """{"script": "echo started; sleep 60"}""")).Session();
        using var rest = server.Client();
        for (var i = 0; i < 100 && (await client.CallAsync("get-session", $$"""{"id": "{{created.Id}}"}""")).Session().Stdout.Length == 0; i++)
        {
            await Task.Delay(100);
        }

        (await client.CallAsync("cancel-session", $$"""{"id": "{{created.Id}}"}""")).IsError.ShouldNotBe(true);
        var final = (await client.CallAsync("wait-for-session", $$"""{"id": "{{created.Id}}", "timeoutMs": 30000}""")).Session();

        final.Status.ShouldBe(SessionStatus.Cancelled);
        var again = (await client.CallAsync("cancel-session", $$"""{"id": "{{created.Id}}"}""")).Failure();
        again.Error.ShouldBe("session_finished");
    }

    [Fact]
    public async Task Fleet_overview_and_list_snapshots_describe_the_fleet()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read));

        var overview = (await client.CallAsync("fleet-overview")).StructuredContent!.Value;
        overview.GetProperty("workers").GetInt32().ShouldBeGreaterThanOrEqualTo(1);
        overview.GetProperty("healthyWorkers").GetInt32().ShouldBeGreaterThanOrEqualTo(1);
        overview.GetProperty("capacity").GetProperty("slots").GetInt64().ShouldBe(16);
        overview.GetProperty("queueDepth").GetInt64().ShouldBe(0);

        var snapshots = await client.CallAsync("list-snapshots");
        snapshots.StructuredContent!.Value.GetProperty("snapshots")[0].GetProperty("name").GetString().ShouldBe("test-minimal");
        snapshots.Text().ShouldContain("test-minimal (default)");
    }

    [Fact]
    public async Task An_installation_admin_lists_workers()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(server.AdminKey);

        var workers = await client.CallAsync("list-workers");

        workers.IsError.ShouldNotBe(true, workers.Text());
        var first = workers.StructuredContent!.Value.GetProperty("workers")[0];
        first.GetProperty("kind").GetString().ShouldBe("embedded");
        first.GetProperty("health").GetString().ShouldBe("healthy");
        workers.Text().ShouldContain("healthy");
    }

    private sealed class Recorder(List<ProgressNotificationValue> notes) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value)
        {
            lock (notes)
            {
                notes.Add(value);
            }
        }
    }
}
