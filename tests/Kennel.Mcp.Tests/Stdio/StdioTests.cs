using System.Diagnostics;
using System.Text.Json;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Sessions;
using Kennel.Testing;
using ModelContextProtocol;

namespace Kennel.Mcp.Tests.Stdio;

/// <summary>
/// <c>kennel mcp</c> end to end: the SDK client starts the real executable, which bridges stdio to a real server's
/// <c>/mcp</c> over HTTP, with the real store and the real bubblewrap worker behind it.
/// </summary>
public sealed class StdioTests(ServersWithWorker servers) : IClassFixture<ServersWithWorker>
{
    [Fact]
    public async Task It_lists_exactly_the_tools_the_HTTP_server_lists_for_the_same_key()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var stdio = await StdioMcp.StartAsync(server, server.AdminKey);
        await using var http = await server.ConnectAsync(server.AdminKey);

        var overStdio = await stdio.Client.ListToolsAsync();
        var overHttp = await http.ListToolsAsync();

        overStdio.Select(t => t.Name).ShouldBe(overHttp.Select(t => t.Name), ignoreOrder: true);
        overStdio.Select(t => t.Name).ShouldContain("create-session");
        foreach (var tool in overStdio)
        {
            var same = overHttp.Single(t => t.Name == tool.Name);
            JsonSerializer.Serialize(tool.ProtocolTool).ShouldBe(JsonSerializer.Serialize(same.ProtocolTool), tool.Name);
        }
        stdio.Client.ServerInfo!.Name.ShouldBe("kennel");
    }

    [Fact]
    public async Task A_session_created_over_stdio_runs_and_wait_for_session_streams_progress()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var stdio = await StdioMcp.StartAsync(server, await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));

        var created = (await stdio.Client.CallAsync("create-session", """{"script": "echo hello; sleep 1; echo bye", "timeoutMs": 30000}""")).Session();
        var notes = new List<ProgressNotificationValue>();
        var final = (await stdio.Client.CallAsync("wait-for-session", $$"""{"id": "{{created.Id}}", "timeoutMs": 60000}""", new Recorder(notes))).Session();

        final.Status.ShouldBe(SessionStatus.Succeeded);
        final.Stdout.ShouldBe("hello\nbye\n");
        notes.ShouldNotBeEmpty();
        notes.Select(n => n.Message).ShouldContain(m => m!.StartsWith("pending", StringComparison.Ordinal) || m.StartsWith("running", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_cancelled_wait_does_not_block_the_bridge_and_the_session_can_then_be_cancelled()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var stdio = await StdioMcp.StartAsync(server, await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));
        var created = (await stdio.Client.CallAsync("create-session", """{"script": "sleep 60"}""")).Session();

        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await Should.ThrowAsync<OperationCanceledException>(async () => await stdio.Client.CallToolAsync("wait-for-session",
            Mcp.Arguments($$"""{"id": "{{created.Id}}", "timeoutMs": 60000}"""), cancellationToken: giveUp.Token));

        var stopwatch = Stopwatch.StartNew();
        (await stdio.Client.CallAsync("cancel-session", $$"""{"id": "{{created.Id}}"}""")).IsError.ShouldNotBe(true);
        var final = (await stdio.Client.CallAsync("wait-for-session", $$"""{"id": "{{created.Id}}", "timeoutMs": 30000}""")).Session();
        final.Status.ShouldBe(SessionStatus.Cancelled);
        stopwatch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task A_read_only_key_does_not_see_create_session_and_is_refused_it_with_insufficient_scope()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var stdio = await StdioMcp.StartAsync(server, await server.NewKeyAsync(null, Scopes.Read));

        var names = (await stdio.Client.ListToolsAsync()).Select(t => t.Name).ToList();
        names.ShouldContain("get-session");
        names.ShouldNotContain("create-session");

        var refused = (await stdio.Client.CallAsync("create-session", """{"script": "echo sneaky"}""")).Failure();
        refused.Error.ShouldBe("insufficient_scope");
        refused.Message.ShouldBe("Missing scopes: mcp:write");
    }

    [Fact]
    public async Task With_debug_logs_the_protocol_still_works_and_the_logs_go_to_stderr()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var stdio = await StdioMcp.StartAsync(server, await server.NewKeyAsync(null, Scopes.Read), logLevel: "debug");

        (await stdio.Client.ListToolsAsync()).ShouldNotBeEmpty();
        (await stdio.Client.CallAsync("list-sessions")).IsError.ShouldNotBe(true);

        stdio.Stderr.ShouldContain("client -> kennel: request tools/list");
        stdio.Stderr.ShouldContain("kennel -> client: response");
    }

    [Fact]
    public async Task Stdout_carries_only_JSON_RPC_even_at_debug_and_stdin_EOF_exits_0()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var raw = RawStdio.Start(StdioMcp.Environment(server.Url.ToString(), await server.NewKeyAsync(null, Scopes.Read), "debug"));

        await raw.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        (await raw.ReadAsync()).GetProperty("id").GetInt32().ShouldBe(1);
        await raw.SendAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        await raw.SendAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/list"}""");
        var tools = await raw.ReadAsync();
        tools.GetProperty("id").GetInt32().ShouldBe(2);
        tools.GetProperty("result").GetProperty("tools").GetArrayLength().ShouldBeGreaterThan(0);

        var (exitCode, rest) = await raw.CloseStdinAndWaitAsync();

        exitCode.ShouldBe(0, raw.Stderr);
        rest.ShouldBeEmpty();
        raw.Stderr.ShouldContain("dbug:");
    }

    [Fact]
    public async Task Requests_sent_before_stdin_closes_are_all_answered_before_it_exits()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var key = await server.NewKeyAsync(null, Scopes.Read, Scopes.Write);
        using var rest = server.Client(key);
        var sleeping = await rest.RunScriptAsync("sleep 60");
        await using var raw = RawStdio.Start(StdioMcp.Environment(server.Url.ToString(), key, null));

        // As `printf '…' | kennel mcp` sends them: everything at once, then EOF, before any answer is back.
        await raw.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        await raw.SendAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        await raw.SendAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/list"}""");
        await raw.SendAsync($$$$"""{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"wait-for-session","arguments":{"id":"{{{{sleeping.Id}}}}","timeoutMs":3000}}}""");
        var (exitCode, answers) = await raw.CloseStdinAndWaitAsync();

        exitCode.ShouldBe(0, raw.Stderr);
        answers.Select(a => a.GetProperty("id").GetInt32()).ShouldBe([1, 2, 3], ignoreOrder: true);
        answers.Single(a => a.GetProperty("id").GetInt32() == 2).GetProperty("result").GetProperty("tools").GetArrayLength().ShouldBeGreaterThan(0);
        var waited = answers.Single(a => a.GetProperty("id").GetInt32() == 3).GetProperty("result");
        waited.TryGetProperty("isError", out _).ShouldBeFalse(waited.ToString());
        waited.GetProperty("structuredContent").GetProperty("id").GetString().ShouldBe(sleeping.Id);
        await rest.CancelAsync(sleeping.Id);
    }

    [Fact]
    public async Task A_bad_key_fails_initialize_with_an_error_naming_KENNEL_API_KEY_and_exits_1()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var raw = RawStdio.Start(StdioMcp.Environment(server.Url.ToString(), "kn_not_a_real_key", null));

        await raw.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        var answer = await raw.ReadAsync();
        var (exitCode, _) = await raw.WaitForExitAsync();

        answer.GetProperty("id").GetInt32().ShouldBe(1);
        answer.GetProperty("error").GetProperty("message").GetString()!.ShouldContain("KENNEL_API_KEY");
        exitCode.ShouldBe(1);
        raw.Stderr.ShouldContain("401");
    }

    [Fact]
    public async Task Without_KENNEL_API_KEY_it_exits_2_naming_it_and_does_not_fall_back_to_the_admin_key_file()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var dataDir = Directory.CreateTempSubdirectory("kennel-mcp-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dataDir, "admin-api-key"), server.AdminKey);
            var env = StdioMcp.Environment(server.Url.ToString(), null, null);
            env["KENNEL_DATA_DIR"] = dataDir;

            var (exitCode, stdout, stderr) = await KennelProcess.RunAsync(env, "mcp");

            exitCode.ShouldBe(2);
            stdout.ShouldBeEmpty();
            stderr.ShouldContain("KENNEL_API_KEY");
            stderr.Trim().Split('\n').Length.ShouldBe(1);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Theory]
    [InlineData("verbose")]
    [InlineData("trace")]
    public async Task A_bad_LOG_LEVEL_exits_2_with_the_accepted_values(string level)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);

        var (exitCode, stdout, stderr) = await KennelProcess.RunAsync(StdioMcp.Environment(server.Url.ToString(), server.AdminKey, level), "mcp");

        exitCode.ShouldBe(2);
        stdout.ShouldBeEmpty();
        stderr.ShouldContain("LOG_LEVEL must be one of debug, info, warn, error");
        stderr.ShouldContain(level);
    }

    [Fact]
    public async Task An_unreachable_server_is_one_clear_line_on_stderr_and_exit_1()
    {
        var (exitCode, stdout, stderr) = await KennelProcess.RunAsync(StdioMcp.Environment("http://127.0.0.1:1", "kn_whatever", null), "mcp");

        exitCode.ShouldBe(1);
        stdout.ShouldBeEmpty();
        stderr.ShouldContain("Cannot reach Kennel at http://127.0.0.1:1/");
        stderr.ShouldContain("KENNEL_URL");
    }

    [Fact]
    public async Task The_help_shows_the_environment_and_a_client_configuration()
    {
        var (exitCode, stdout, _) = await KennelProcess.RunAsync(new Dictionary<string, string?>(), "mcp", "--help");

        exitCode.ShouldBe(0);
        stdout.ShouldContain("KENNEL_API_KEY");
        stdout.ShouldContain("LOG_LEVEL");
        stdout.ShouldContain("\"mcpServers\"");
    }

    [Fact]
    public async Task After_the_server_restarts_the_bridge_starts_a_new_session_and_carries_on()
    {
        var dataDir = Directory.CreateTempSubdirectory("kennel-mcp-restart-").FullName;
        try
        {
            var first = await TestServer.StartAsync(TestStore.Sqlite, s => s with { EmbeddedWorker = false }, dataDir);
            var key = await first.NewKeyAsync(null, Scopes.Read);
            var port = first.Url.Port;
            await using var stdio = await StdioMcp.StartAsync(first, key);
            (await stdio.Client.ListToolsAsync()).ShouldNotBeEmpty();
            await first.DisposeAsync();

            await using var second = await TestServer.StartAsync(TestStore.Sqlite,
                s => s with { EmbeddedWorker = false, Listen = $"127.0.0.1:{port}" }, dataDir);
            var tools = await stdio.Client.ListToolsAsync();

            tools.Select(t => t.Name).ShouldContain("list-sessions");
            (await stdio.Client.CallAsync("list-sessions")).IsError.ShouldNotBe(true);
            stdio.Stderr.ShouldContain("starting a new one");
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
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
