using System.Net;
using System.Net.Http.Json;
using Dapper;
using Kennel.Contracts;
using Kennel.Contracts.Conversations;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Conversations;

/// <summary>Agent turns end to end: a real server, a scripted provider in OpenAI's wire format, real sandboxes for exec.</summary>
public sealed class ChatTests(ChatServers servers) : IClassFixture<ChatServers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_model_that_calls_exec_answers_with_the_output_of_a_real_sandbox(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Chat);
        servers.Model.ThenEvents(ModelScript.Exec("call_1", "echo kennel-$((6*7))")).ThenEvents(ModelScript.Answer("The command printed kennel-42."));
        var before = servers.Model.Requests.Count;

        var run = await client.SendAsync("main", "What does the command print?");

        run.Status.ShouldBe(RunStatus.Succeeded);
        run.Answer.ShouldBe("The command printed kennel-42.");
        run.ToolSteps.ShouldBe(1);
        run.Usage.ShouldBe(new TokenTotals(220, 30, 0, 0));
        // The second model call was fed the sandbox's output.
        servers.Model.Requests.Skip(before + 1).First().Body.ShouldContain("kennel-42");

        var history = await client.HistoryAsync(run.ConversationId);
        history.Items.Select(entry => entry.Kind).ShouldBe(["user", "tool_call", "tool_result", "assistant"]);
        history.Items.Select(entry => entry.Seq).ShouldBe([1L, 2L, 3L, 4L]);
        history.Items.ShouldAllBe(entry => entry.RunId == run.Id);
        var call = history.Items[1];
        call.Tool.ShouldBe("exec");
        call.Arguments!.Value.GetProperty("command").GetString().ShouldBe("echo kennel-$((6*7))");
        history.Items[2].Text!.ShouldContain("kennel-42");
        history.Items[2].SessionId.ShouldBe(call.SessionId);

        // The tool's session is an ordinary session of the workspace, saying where it came from.
        var sessions = (await client.GetFromJsonAsync("/v1/sessions", KennelJson.Default.SessionPage))!;
        var session = sessions.Items.ShouldHaveSingleItem();
        session.Id.ShouldBe(call.SessionId);
        session.Status.ShouldBe(SessionStatus.Succeeded);
        session.Metadata["conversation"].ShouldBe(run.ConversationId);
        session.Metadata["run"].ShouldBe(run.Id);

        var conversation = await client.GetConversationAsync(run.ConversationId);
        conversation.Key.ShouldBe("main");
        conversation.Agent.ShouldBe("main");
        conversation.Usage.ShouldBe(new TokenTotals(220, 30, 0, 0));
        var ledger = await server.Server.Database.ReadAsync(c => c.QueryAsync<string>(
            "SELECT outcome FROM model_calls WHERE run_id = @Id", new { run.Id }), CancellationToken.None);
        ledger.ShouldBe(["ok", "ok"]);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_async_run_is_returned_at_once_and_read_and_listed_until_it_ends(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Chat);
        servers.Model.ThenEvents(ModelScript.Answer("Hello!"));

        using var response = await client.PostAsJsonAsync("/v1/conversations/main/messages?waitMs=0", new SendMessageRequest { Message = "say hello" },
            KennelJson.Default.SendMessageRequest);
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var queued = (await response.Content.ReadFromJsonAsync(KennelJson.Default.Run))!;
        queued.Status.ShouldBeOneOf(RunStatus.Queued, RunStatus.Running);

        var done = await client.GetRunAsync(queued.Id, waitMs: 60_000);
        done.Status.ShouldBe(RunStatus.Succeeded);
        done.Answer.ShouldBe("Hello!");
        (await client.ListRunsAsync()).Items.Select(run => run.Id).ShouldBe([queued.Id]);
        (await client.ListRunsAsync($"?conversation={queued.ConversationId}&status=succeeded")).Items.ShouldHaveSingleItem();
        (await client.ListRunsAsync("?status=running")).Items.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_second_message_sees_the_first_turn_and_runs_after_it(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Chat);
        servers.Model.ThenEvents(ModelScript.Answer("First.")).ThenEvents(ModelScript.Answer("Second."));
        var before = servers.Model.Requests.Count;

        var first = await client.SendAsync("notes", "one", waitMs: 0);
        var second = await client.SendAsync("notes", "two");

        second.Status.ShouldBe(RunStatus.Succeeded);
        (await client.GetRunAsync(first.Id)).Answer.ShouldBe("First.");
        second.Answer.ShouldBe("Second.");
        second.ConversationId.ShouldBe(first.ConversationId);
        var secondRequest = servers.Model.Requests.Skip(before + 1).First().Body;
        secondRequest.ShouldContain("First.");
        (await client.HistoryAsync(first.ConversationId)).Items.Select(entry => entry.Text).ShouldBe(["one", "First.", "two", "Second."]);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Abort_stops_the_run_and_cancels_its_sandbox_session(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Chat);
        servers.Model.ThenEvents(ModelScript.Exec("call_1", "sleep 600"));

        var run = await client.SendAsync("main", "sleep for a while", waitMs: 0);
        var call = await client.WaitForEntryAsync(run.ConversationId, entry => entry.Kind == TranscriptKinds.ToolCall);
        await WaitForStatusAsync(client, call.SessionId!, SessionStatus.Running);

        using var abort = await client.PostAsync($"/v1/conversations/{run.ConversationId}/abort", null);
        abort.StatusCode.ShouldBe(HttpStatusCode.OK);
        var aborted = (await abort.Content.ReadFromJsonAsync(KennelJson.Default.Run))!;

        aborted.Status.ShouldBe(RunStatus.Cancelled);
        aborted.Error!.Code.ShouldBe("cancelled");
        // The sandbox running sleep 600 is gone within 2 s of the abort.
        using var wait = await client.GetAsync($"/v1/sessions/{call.SessionId}/wait?timeoutMs=2000");
        (await wait.Content.ReadFromJsonAsync(KennelJson.Default.Session))!.Status.ShouldBe(SessionStatus.Cancelled);
        var history = await client.HistoryAsync(run.ConversationId);
        history.Items.Select(entry => entry.Kind).ShouldBe(["user", "tool_call", "tool_result"]);
        history.Items[2].IsError.ShouldBe(true);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Cancel_closes_the_model_stream_and_keeps_the_partial_answer(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Chat);
        servers.Model.ThenTextAndHang("Here is the beginning");

        var run = await client.SendAsync("main", "write a long essay", waitMs: 0);
        await WaitForRunningAsync(client, run.Id);
        await Task.Delay(200); // let the first text arrive; the assertion below holds either way only if it did
        using var cancel = await client.PostAsync($"/v1/runs/{run.Id}/cancel", null);
        var cancelled = (await cancel.Content.ReadFromJsonAsync(KennelJson.Default.Run))!;

        cancelled.Status.ShouldBe(RunStatus.Cancelled);
        cancelled.Answer.ShouldBe("Here is the beginning");
        var last = (await client.HistoryAsync(run.ConversationId)).Items[^1];
        last.Kind.ShouldBe(TranscriptKinds.Assistant);
        last.Partial.ShouldBe(true);
        last.Text.ShouldBe("Here is the beginning");
        var outcomes = await server.Server.Database.ReadAsync(c => c.QueryAsync<string>(
            "SELECT outcome FROM model_calls WHERE run_id = @Id", new { run.Id }), CancellationToken.None);
        outcomes.ShouldBe(["cancelled"]);

        using var again = await client.PostAsync($"/v1/runs/{run.Id}/cancel", null);
        again.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await again.ReadProblemAsync()).Code.ShouldBe("run_finished");
    }

    public static TheoryData<string, string> ProviderFailures => new()
    {
        { TestStore.Sqlite, "500" },
        { TestStore.Postgres, "500" },
        { TestStore.Sqlite, "429" },
        { TestStore.Sqlite, "cut" },
        { TestStore.Postgres, "cut" },
    };

    [Theory]
    [MemberData(nameof(ProviderFailures))]
    public async Task A_provider_that_fails_for_good_fails_the_run_with_provider_error_and_the_transcript_intact(string store, string failure)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Chat);
        servers.Model.ThenEvents(ModelScript.Exec("call_1", "echo step-one"));
        switch (failure)
        {
            case "500":
                for (var i = 0; i < 4; i++)
                {
                    servers.Model.ThenStatus(500, """{"error":{"message":"upstream exploded","type":"server_error"}}""");
                }
                break;
            case "429":
                servers.Model.ThenStatus(429, """{"error":{"message":"quota","type":"rate_limit"}}""", ("Retry-After", "3600"));
                break;
            default:
                servers.Model.ThenEventsAndCut(ModelScript.Text("Half an ans"));
                break;
        }

        var run = await client.SendAsync("main", "run step one, then answer");

        run.Status.ShouldBe(RunStatus.Failed);
        run.Error!.Code.ShouldBe("provider_error");
        run.Error.Message.ShouldContain("openai");
        var history = await client.HistoryAsync(run.ConversationId);
        history.Items.Select(entry => entry.Kind).ShouldBe(["user", "tool_call", "tool_result"]);
        history.Items[2].Text!.ShouldContain("step-one");
        var outcomes = await server.Server.Database.ReadAsync(c => c.QueryAsync<string>(
            "SELECT outcome FROM model_calls WHERE run_id = @Id ORDER BY at", new { run.Id }), CancellationToken.None);
        outcomes.ShouldBe(["ok", "error"]);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_turn_that_wants_more_tool_steps_than_the_limit_fails_with_max_tool_steps(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Chat);
        servers.Model.ThenEvents(ModelScript.Exec("call_1", "echo 1")).ThenEvents(ModelScript.Exec("call_2", "echo 2"))
            .ThenEvents(ModelScript.Exec("call_3", "echo 3"));

        var run = await client.SendAsync("main", "loop forever");

        run.Status.ShouldBe(RunStatus.Failed);
        run.Error!.Code.ShouldBe("max_tool_steps");
        run.Error.Message.ShouldContain("KENNEL_AGENT_MAX_TOOL_STEPS");
        run.ToolSteps.ShouldBe(ChatServers.TestLimits.MaxToolSteps);
        var history = await client.HistoryAsync(run.ConversationId);
        history.Items.Count(entry => entry.Kind == TranscriptKinds.ToolResult).ShouldBe(2);
        history.Items.Count(entry => entry.Kind == TranscriptKinds.ToolCall).ShouldBe(2);
    }

    [Fact]
    public async Task A_tool_result_longer_than_the_limit_is_cut_with_a_marker_before_the_model_sees_it()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Chat);
        servers.Model.ThenEvents(ModelScript.Exec("call_1", "head -c 5000 /dev/zero | tr '\\0' x")).ThenEvents(ModelScript.Answer("Lots of x."));
        var before = servers.Model.Requests.Count;

        var run = await client.SendAsync("main", "print many x");

        run.Status.ShouldBe(RunStatus.Succeeded);
        var result = (await client.HistoryAsync(run.ConversationId)).Items.Single(entry => entry.Kind == TranscriptKinds.ToolResult);
        result.Truncated.ShouldBe(true);
        result.Text!.ShouldContain($"[output truncated: {ChatServers.TestLimits.MaxToolResultChars} of ");
        servers.Model.Requests.Skip(before + 1).First().Body.ShouldNotContain(new string('x', 5000));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Another_workspace_never_sees_a_conversation_or_run(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Chat,
            Contracts.ApiKeys.Scopes.Write);
        using var other = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Chat,
            Contracts.ApiKeys.Scopes.Write);
        servers.Model.ThenEvents(ModelScript.Answer("Mine."));
        var run = await client.SendAsync("main", "private");

        foreach (var path in new[] { $"/v1/conversations/{run.ConversationId}", $"/v1/conversations/{run.ConversationId}/messages", $"/v1/runs/{run.Id}" })
        {
            using var response = await other.GetAsync(path);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound, path);
        }
        foreach (var path in new[] { $"/v1/conversations/{run.ConversationId}/abort", $"/v1/runs/{run.Id}/cancel" })
        {
            using var response = await other.PostAsync(path, null);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound, path);
        }
        using (var patch = await other.PatchAsJsonAsync($"/v1/conversations/{run.ConversationId}", new UpdateConversationRequest { Label = "mine now" },
            KennelJson.Default.UpdateConversationRequest))
        {
            patch.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }
        using (var delete = await other.DeleteAsync($"/v1/conversations/{run.ConversationId}?deleteTranscript=true"))
        {
            delete.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }
        (await other.ListConversationsAsync()).Items.ShouldBeEmpty();
        (await other.ListRunsAsync()).Items.ShouldBeEmpty();
        (await client.HistoryAsync(run.ConversationId)).Items.Count.ShouldBe(2);
    }

    [Fact]
    public async Task The_prompt_for_say_hello_to_main_stays_small()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Chat);
        servers.Model.ThenEvents(ModelScript.Answer("Hello!"));
        var before = servers.Model.Requests.Count;

        await client.SendAsync("main", "say hello");

        // Instructions, the message and exec's declaration: a thousand characters or so, not OpenClaw's 18k tokens.
        var body = servers.Model.Requests.Skip(before).Single().Body;
        body.Length.ShouldBeLessThan(1000, body);
        body.ShouldContain("\"name\":\"exec\"");
    }

    private static async Task WaitForStatusAsync(HttpClient client, string sessionId, SessionStatus status)
    {
        for (var i = 0; i < 600; i++)
        {
            using var response = await client.GetAsync($"/v1/sessions/{sessionId}");
            if (response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync(KennelJson.Default.Session))!.Status == status)
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Session {sessionId} never became {status}.");
    }

    private static async Task WaitForRunningAsync(HttpClient client, string runId)
    {
        for (var i = 0; i < 600 && (await client.GetRunAsync(runId)).Status != RunStatus.Running; i++)
        {
            await Task.Delay(50);
        }
    }
}
