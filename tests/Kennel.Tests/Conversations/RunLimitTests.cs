using System.Net.Http.Json;
using Dapper;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Conversations;
using Kennel.ControlPlane.Conversations;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Runs;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;
using Kennel.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.Tests.Conversations;

/// <summary>
/// A run's own limits, as a feature inside the control plane (a cron job) queues them: a token budget and a timeout that
/// replaces the installation's (2 minutes here). The runs are queued in one transaction with their conversation.
/// </summary>
public sealed class RunLimitTests(ChatServers servers) : IClassFixture<ChatServers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_run_whose_model_keeps_calling_tools_stops_at_its_token_budget_without_running_the_next_call(string store)
    {
        var server = await servers.GetAsync(store);
        var (owned, workspaceId) = await NewWorkspaceAsync(server);
        using var client = owned;
        // Each step costs 140 tokens: the first leaves 60 of the budget, the second passes it.
        servers.Model.ThenEvents(ModelScript.Exec("call_1", "echo first"))
            .ThenEvents([ModelScript.Text("Let me check once more."), .. ModelScript.Exec("call_2", "echo second")]);

        var queued = await QueueAsync(server, workspaceId, "check twice", new RunRow { TokenBudget = 200 });
        var run = await client.GetRunAsync(queued.Id, waitMs: 60_000);

        run.Status.ShouldBe(RunStatus.Failed);
        run.Error!.Code.ShouldBe("token_budget_exceeded");
        run.Error.Message.ShouldContain("280 tokens");
        run.Error.Message.ShouldContain("budget of 200");
        run.Answer.ShouldBe("Let me check once more.");
        run.ToolSteps.ShouldBe(1);
        run.Usage.ShouldBe(new TokenTotals(240, 40, 0, 0));
        var history = await client.HistoryAsync(run.ConversationId);
        history.Items.Select(entry => entry.Kind).ShouldBe(["user", "tool_call", "tool_result", "assistant"]);
        history.Items[^1].Text.ShouldBe("Let me check once more.");
        history.Items.ShouldNotContain(entry => entry.CallId == "call_2");
        // Only the first call's sandbox ever existed.
        var sessions = (await client.GetFromJsonAsync("/v1/sessions", KennelJson.Default.SessionPage))!;
        sessions.Items.ShouldHaveSingleItem().Id.ShouldBe(history.Items[1].SessionId);
        (await OutcomesAsync(server, run.Id)).ShouldBe(["ok", "ok"]);
    }

    [Fact]
    public async Task An_answer_that_ends_the_turn_is_kept_even_past_the_budget()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var (owned, workspaceId) = await NewWorkspaceAsync(server);
        using var client = owned;
        servers.Model.ThenEvents(ModelScript.Answer("Short and done."));

        var queued = await QueueAsync(server, workspaceId, "answer", new RunRow { TokenBudget = 50 });
        var run = await client.GetRunAsync(queued.Id, waitMs: 60_000);

        run.Status.ShouldBe(RunStatus.Succeeded);
        run.Answer.ShouldBe("Short and done.");
        run.Usage.ShouldBe(new TokenTotals(100, 10, 0, 0));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_run_resumed_after_its_lease_ran_out_counts_the_tokens_it_used_before(string store)
    {
        var server = await servers.GetAsync(store);
        var (owned, workspaceId) = await NewWorkspaceAsync(server);
        using var client = owned;
        servers.Model.ThenEvents(ModelScript.Exec("call_1", "echo after the resume"));

        // What a control plane that died mid-run leaves: the run running under its name, its lease run out, 900 tokens
        // used. The 140 of the next step would be well inside the budget on their own.
        var queued = await QueueAsync(server, workspaceId, "carry on", new RunRow { TokenBudget = 1_000 },
            "UPDATE runs SET status = 'running', owner = 'cp_gone', lease_expires_at = 0, started_at = created_at, " +
            "input_tokens = 700, output_tokens = 150, cache_read_tokens = 40, cache_write_tokens = 10 WHERE id = @Id");
        var run = await client.GetRunAsync(queued.Id, waitMs: 60_000);

        run.Status.ShouldBe(RunStatus.Failed);
        run.Error!.Code.ShouldBe("token_budget_exceeded");
        run.Error.Message.ShouldContain("1040 tokens");
        run.Usage.ShouldBe(new TokenTotals(820, 170, 40, 10));
        (await client.HistoryAsync(run.ConversationId)).Items.ShouldNotContain(entry => entry.Kind == TranscriptKinds.ToolCall);
        (await client.GetFromJsonAsync("/v1/sessions", KennelJson.Default.SessionPage))!.Items.ShouldBeEmpty();
        (await OutcomesAsync(server, run.Id)).ShouldBe(["ok"]);
    }

    [Fact]
    public async Task A_run_resumed_with_its_budget_already_spent_makes_no_model_call()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var (owned, workspaceId) = await NewWorkspaceAsync(server);
        using var client = owned;
        var before = servers.Model.Requests.Count;

        var queued = await QueueAsync(server, workspaceId, "carry on", new RunRow { TokenBudget = 1_000 },
            "UPDATE runs SET status = 'running', owner = 'cp_gone', lease_expires_at = 0, started_at = created_at, " +
            "input_tokens = 900, output_tokens = 100 WHERE id = @Id");
        var run = await client.GetRunAsync(queued.Id, waitMs: 60_000);

        run.Status.ShouldBe(RunStatus.Failed);
        run.Error!.Code.ShouldBe("token_budget_exceeded");
        run.Error.Message.ShouldContain("1000 tokens");
        servers.Model.Requests.Count.ShouldBe(before);
        (await OutcomesAsync(server, run.Id)).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_run_with_its_own_timeout_times_out_at_it_and_says_so(string store)
    {
        var server = await servers.GetAsync(store);
        var (owned, workspaceId) = await NewWorkspaceAsync(server);
        using var client = owned;
        servers.Model.ThenTextAndHang("Still thinking");

        var queued = await QueueAsync(server, workspaceId, "take forever", new RunRow { TimeoutMs = 1_500 });
        // The installation's timeout is 2 minutes: a run ended within this wait ended at its own.
        var run = await client.GetRunAsync(queued.Id, waitMs: 60_000);

        run.Status.ShouldBe(RunStatus.TimedOut);
        run.Error!.Code.ShouldBe("turn_timeout");
        run.Error.Message.ShouldContain("the run's own timeout of 1.5 s");
        run.Error.Message.ShouldNotContain("KENNEL_AGENT_TURN_TIMEOUT_SECONDS");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_conversation_and_run_inserted_in_a_transaction_that_rolls_back_leave_nothing(string store)
    {
        var server = await servers.GetAsync(store);
        var (owned, workspaceId) = await NewWorkspaceAsync(server);
        using var client = owned;
        var (conversation, run) = Rows(workspaceId, "never sent", new RunRow { TimeoutMs = 60_000, TokenBudget = 10_000 });

        await Should.ThrowAsync<InvalidOperationException>(server.Server.Database.WriteAsync(async (connection, transaction) =>
        {
            (await ConversationStore.InsertAsync(connection, transaction, conversation, CancellationToken.None)).ShouldBeTrue();
            await RunStore.InsertAsync(connection, transaction, run, CancellationToken.None);
            throw new InvalidOperationException("the owner's own write failed");
        }, CancellationToken.None));

        (await client.ListConversationsAsync()).Items.ShouldBeEmpty();
        (await client.ListRunsAsync()).Items.ShouldBeEmpty();
        (await server.Server.Database.ReadAsync(c => c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM runs WHERE id = @Id", new { run.Id }), CancellationToken.None)).ShouldBe(0);
    }

    [Fact]
    public async Task A_key_taken_by_a_live_conversation_is_refused_inside_the_transaction_too()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var (owned, workspaceId) = await NewWorkspaceAsync(server);
        using var client = owned;
        var (first, _) = Rows(workspaceId, "one", new RunRow());
        var (second, _) = Rows(workspaceId, "two", new RunRow());

        var inserted = await server.Server.Database.WriteAsync(async (connection, transaction) =>
            (await ConversationStore.InsertAsync(connection, transaction, first, CancellationToken.None),
             await ConversationStore.InsertAsync(connection, transaction, second, CancellationToken.None)), CancellationToken.None);

        inserted.ShouldBe((true, false));
        (await client.ListConversationsAsync()).Items.ShouldHaveSingleItem().Id.ShouldBe(first.Id);
    }

    [Fact]
    public void Limits_outside_their_bounds_are_refused_at_the_edge_and_in_the_store()
    {
        RunLimits.TimeoutMs(null, "timeoutSeconds").ShouldBeNull();
        RunLimits.TimeoutMs(1_000, "timeoutSeconds").ShouldBe(1_000);
        RunLimits.TimeoutMs(RunLimits.MaxTimeoutMs, "timeoutSeconds").ShouldBe(RunLimits.MaxTimeoutMs);
        Should.Throw<ApiProblem>(() => RunLimits.TimeoutMs(999, "timeoutSeconds")).Field.ShouldBe("timeoutSeconds");
        Should.Throw<ApiProblem>(() => RunLimits.TimeoutMs(RunLimits.MaxTimeoutMs + 1, "timeoutSeconds")).Detail.ShouldBe(
            "timeoutSeconds must be between 1 s and 24 h.");
        RunLimits.TokenBudget(1, "tokenBudget").ShouldBe(1);
        Should.Throw<ApiProblem>(() => RunLimits.TokenBudget(0, "tokenBudget")).Field.ShouldBe("tokenBudget");
        Should.Throw<ApiProblem>(() => RunLimits.TokenBudget(RunLimits.MaxTokenBudget + 1, "tokenBudget"));

        var (_, run) = Rows("ws_default", "too short", new RunRow { TimeoutMs = 10 });
        Should.Throw<ArgumentOutOfRangeException>(() => RunStore.InsertAsync(null!, null!, run, CancellationToken.None));
    }

    private static async Task<(HttpClient Client, string WorkspaceId)> NewWorkspaceAsync(TestServer server)
    {
        using var admin = server.Client();
        var name = $"t-{Guid.NewGuid():N}"[..20];
        var created = await admin.CreateApiKeyAsync(name, Scopes.Read, Scopes.Chat);
        var id = await server.Server.Database.ReadAsync(c => c.QuerySingleAsync<string>(
            "SELECT id FROM workspaces WHERE name = @name", new { name }), CancellationToken.None);
        return (server.Client(created.Key), id);
    }

    /// <summary>A new conversation of <c>main</c> and a run of it carrying <paramref name="limits"/>'s limits.</summary>
    private static (ConversationRow Conversation, RunRow Run) Rows(string workspaceId, string message, RunRow limits)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var conversation = new ConversationRow
        {
            Id = SortableId.New("cnv", TimeProvider.System),
            WorkspaceId = workspaceId,
            ConversationKey = "main",
            Agent = "main",
            CreatedAt = now,
            LastActivityAt = now,
        };
        var run = new RunRow
        {
            Id = SortableId.New("run", TimeProvider.System),
            WorkspaceId = workspaceId,
            ConversationId = conversation.Id,
            Agent = "main",
            Message = message,
            CreatedAt = now,
            TimeoutMs = limits.TimeoutMs,
            TokenBudget = limits.TokenBudget,
        };
        return (conversation, run);
    }

    /// <summary>Queues a run with its conversation in one transaction, as a cron job's firing does, then wakes the executor.</summary>
    private static async Task<RunRow> QueueAsync(TestServer server, string workspaceId, string message, RunRow limits, string? thenSql = null)
    {
        var (conversation, run) = Rows(workspaceId, message, limits);
        await server.Server.Database.WriteAsync(async (connection, transaction) =>
        {
            (await ConversationStore.InsertAsync(connection, transaction, conversation, CancellationToken.None)).ShouldBeTrue();
            await RunStore.InsertAsync(connection, transaction, run, CancellationToken.None);
            if (thenSql is not null)
            {
                await connection.ExecuteAsync(thenSql, new { run.Id }, transaction);
            }
        }, CancellationToken.None);
        server.Server.Services.GetRequiredService<ChangeSignal>().PulseRunQueue();
        return run;
    }

    private static Task<IEnumerable<string>> OutcomesAsync(TestServer server, string runId) =>
        server.Server.Database.ReadAsync(c => c.QueryAsync<string>(
            "SELECT outcome FROM model_calls WHERE run_id = @runId ORDER BY at", new { runId }), CancellationToken.None);
}
