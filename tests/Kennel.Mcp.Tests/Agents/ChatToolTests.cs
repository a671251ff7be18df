using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Conversations;
using Kennel.Testing;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Kennel.Mcp.Tests.Agents;

/// <summary>
/// The chat and session tools of <c>/w/{workspace}/mcp</c> through the official C# SDK client: a scripted provider in
/// OpenAI's wire format answers, and <c>exec</c> runs in a real sandbox.
/// </summary>
public sealed class ChatToolTests(ChatServers servers) : IClassFixture<ChatServers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Chat_send_runs_a_turn_whose_exec_runs_in_a_sandbox_and_the_session_tools_show_it(string store)
    {
        var server = await servers.GetAsync(store);
        var workspace = AgentMcp.NewWorkspace();
        await using var client = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, [.. Scopes.All]));
        servers.Model.ThenEvents(ModelScript.Exec("call_1", "echo mcp-$((6*7))")).ThenEvents(ModelScript.Answer("It printed mcp-42."));

        var sent = await client.CallAsync("chat_send", """{"message": "What does the command print?"}""");

        sent.IsError.ShouldNotBe(true, sent.Text());
        sent.Text().ShouldBe("It printed mcp-42.");
        var run = Run(sent);
        run.Status.ShouldBe(RunStatus.Succeeded);
        run.ToolSteps.ShouldBe(1);

        var history = (await client.CallAsync("chat_history", """{"session": "main"}""")).StructuredContent!.Value.Deserialize(KennelJson.Default.TranscriptPage)!;
        history.Items.Select(e => e.Kind).ShouldBe(["user", "tool_call", "tool_result", "assistant"]);
        history.Items[2].Text!.ShouldContain("mcp-42");

        var list = (await client.CallAsync("sessions_list")).StructuredContent!.Value.Deserialize(KennelJson.Default.ConversationPage)!;
        list.Items.ShouldHaveSingleItem().Id.ShouldBe(run.ConversationId);
        var patched = await client.CallAsync("sessions_patch", $$"""{"session": "{{run.ConversationId}}", "label": "numbers", "thinking": "low"}""");
        var conversation = patched.StructuredContent!.Value.Deserialize(KennelJson.Default.Conversation)!;
        (conversation.Label, conversation.Thinking).ShouldBe(("numbers", "low"));
        (await client.CallAsync("sessions_get", """{"session": "main"}""")).StructuredContent!.Value
            .Deserialize(KennelJson.Default.Conversation)!.Label.ShouldBe("numbers");
        (await client.CallAsync("chat_run_list", """{"session": "main", "status": "succeeded"}""")).StructuredContent!.Value
            .Deserialize(KennelJson.Default.RunPage)!.Items.ShouldHaveSingleItem().Id.ShouldBe(run.Id);

        var deleted = await client.CallAsync("sessions_delete", """{"session": "main"}""");
        deleted.IsError.ShouldNotBe(true, deleted.Text());
        (await client.CallAsync("sessions_list")).StructuredContent!.Value.Deserialize(KennelJson.Default.ConversationPage)!.Items.ShouldBeEmpty();
    }

    [Fact]
    public async Task Chat_send_with_a_progress_token_streams_the_tool_call_and_the_text_before_the_answer()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var workspace = AgentMcp.NewWorkspace();
        using var http = server.Client(await server.NewKeyAsync(workspace, Scopes.Read, Scopes.Chat));
        servers.Model.ThenEvents(ModelScript.Exec("call_p", "echo progress")).ThenEvents(ModelScript.Answer("Streamed."));

        // Over the wire, as the stateless endpoint writes it: every notification, in order, then the answer. (The SDK
        // client hands notifications to the caller's IProgress on its own tasks, so it can drop one that arrives just
        // before the answer; the server's side is what this asserts.)
        using var request = RawMcp.Post("""
            {"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"chat_send","arguments":{"message":"go"},"_meta":{"progressToken":"p7"}}}
            """);
        request.RequestUri = new Uri($"/w/{workspace}/mcp", UriKind.Relative);
        using var response = await http.SendAsync(request);

        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        var messages = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('\n').Single(line => line.StartsWith("data:", StringComparison.Ordinal))["data:".Length..])
            .Select(data => JsonDocument.Parse(data).RootElement).ToList();
        var notes = messages.Where(m => m.TryGetProperty("method", out var method) && method.GetString() == "notifications/progress")
            .Select(m => m.GetProperty("params")).ToList();
        notes.Select(n => n.GetProperty("message").GetString()).ShouldBe(["[tool exec started]", "[tool exec done]", "Streamed."]);
        notes.Select(n => n.GetProperty("progress").GetDouble()).ShouldBe([1d, 2d, 3d]);
        notes.ShouldAllBe(n => n.GetProperty("progressToken").GetString() == "p7");
        var answer = messages[^1];
        answer.GetProperty("id").GetInt32().ShouldBe(7);
        answer.GetProperty("result").GetProperty("structuredContent").GetProperty("answer").GetString().ShouldBe("Streamed.");
    }

    [Fact]
    public async Task A_turn_that_outlasts_its_wait_returns_running_and_is_followed_then_cancelled_keeping_the_partial_answer()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var workspace = AgentMcp.NewWorkspace();
        await using var client = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, Scopes.Read, Scopes.Chat));
        servers.Model.ThenTextAndHang("Thinking about it");

        var sent = await client.CallAsync("chat_send", """{"message": "take your time", "waitSeconds": 1}""");
        var running = Run(sent);
        running.Status.ShouldBe(RunStatus.Running);
        sent.Text().ShouldContain($"chat_run_get with runId {running.Id}");
        Run(await client.CallAsync("chat_run_get", $$"""{"runId": "{{running.Id}}"}""")).Status.ShouldBe(RunStatus.Running);

        var cancelled = Run(await client.CallAsync("chat_run_cancel", $$"""{"runId": "{{running.Id}}"}"""));
        cancelled.Status.ShouldBe(RunStatus.Cancelled);
        var history = (await client.CallAsync("chat_history")).StructuredContent!.Value.Deserialize(KennelJson.Default.TranscriptPage)!;
        var partial = history.Items[^1];
        (partial.Kind, partial.Text, partial.Partial).ShouldBe(("assistant", "Thinking about it", (bool?)true));
        (await client.CallAsync("chat_abort")).Failure().Error.ShouldBe("no_active_run");
    }

    [Fact]
    public async Task Chat_send_async_returns_a_run_at_once_and_chat_abort_stops_it()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var workspace = AgentMcp.NewWorkspace();
        await using var client = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, Scopes.Read, Scopes.Chat));
        servers.Model.ThenTextAndHang("Partly");

        var queued = Run(await client.CallAsync("chat_send_async", """{"message": "long job", "session": "jobs"}"""));
        queued.Status.ShouldBeOneOf(RunStatus.Queued, RunStatus.Running);
        for (var i = 0; i < 200 && Run(await client.CallAsync("chat_run_get", $$"""{"runId": "{{queued.Id}}"}""")).Status != RunStatus.Running; i++)
        {
            await Task.Delay(50);
        }

        var aborted = Run(await client.CallAsync("chat_abort", """{"session": "jobs"}"""));
        aborted.Id.ShouldBe(queued.Id);
        aborted.Status.ShouldBe(RunStatus.Cancelled);
    }

    [Fact]
    public async Task A_bad_call_writes_nothing_and_scopes_and_another_workspaces_sessions_are_refused()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var workspace = AgentMcp.NewWorkspace();
        await using var client = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, [.. Scopes.All]));
        servers.Model.ThenEvents(ModelScript.Answer("Mine."));
        var mine = Run(await client.CallAsync("chat_send", """{"message": "hello"}"""));

        // A bad call (AgentToolArgumentTests has one for every tool) writes nothing.
        (await client.CallAsync("chat_send", """{"message": "x", "waitSeconds": 0}""")).Failure().Error.ShouldBe("invalid_arguments");
        (await client.CallAsync("sessions_list")).StructuredContent!.Value.Deserialize(KennelJson.Default.ConversationPage)!.Items.ShouldHaveSingleItem();

        var reader = AgentMcp.NewWorkspace();
        await using var readOnly = await server.ConnectAgentAsync(reader, await server.NewKeyAsync(reader, Scopes.Read));
        var refused = (await readOnly.CallAsync("chat_send", """{"message": "hi"}""")).Failure();
        (refused.Error, refused.Message).ShouldBe(("insufficient_scope", "Missing scopes: mcp:chat"));
        (await readOnly.CallAsync("sessions_delete", """{"session": "main"}""")).Failure().Error.ShouldBe("insufficient_scope");

        // Another workspace's ids are not found, as if they did not exist.
        foreach (var (tool, arguments) in new[]
        {
            ("sessions_get", $$"""{"session": "{{mine.ConversationId}}"}"""),
            ("chat_history", $$"""{"session": "{{mine.ConversationId}}"}"""),
            ("chat_run_get", $$"""{"runId": "{{mine.Id}}"}"""),
        })
        {
            (await readOnly.CallAsync(tool, arguments)).Failure().Error.ShouldBe("not_found", tool);
        }
    }

    private static Run Run(CallToolResult result) => result.StructuredContent!.Value.Deserialize(KennelJson.Default.Run)!;
}
