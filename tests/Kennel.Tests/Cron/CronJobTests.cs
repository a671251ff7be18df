using System.Net;
using System.Net.Http.Json;
using Dapper;
using Kennel.Agents.Providers;
using Kennel.Contracts;
using Kennel.Contracts.Cron;
using Kennel.Testing;

namespace Kennel.Tests.Cron;

/// <summary>
/// Cron jobs in a real control plane on a manual clock, against a scripted provider in OpenAI's wire format: a job fires at
/// its time in a conversation of its own, its run is in the history with its usage and cost, and its state moves on.
/// </summary>
public sealed class CronJobTests : IAsyncLifetime
{
    private ScriptedProvider model = null!;

    public async Task InitializeAsync() => model = await ScriptedProvider.StartAsync();

    public async Task DisposeAsync() => await model.DisposeAsync();

    private static ManualClock ClockAtTheMinute()
    {
        var now = DateTimeOffset.UtcNow;
        return new ManualClock(new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero));
    }

    private Task<TestServer> StartAsync(string store, ManualClock? clock, bool worker = false, string? dataDir = null, string? database = null) =>
        TestServer.StartAsync(store, s => s with
        {
            Time = clock ?? TimeProvider.System,
            EmbeddedWorker = worker,
            Outbound = ControlPlane.Http.OutboundAddresses.Parse("127.0.0.1/32", out _)!,
            Providers = [new ProviderSettings("openai", ProviderKind.OpenAI, new Uri(model.Url, "v1"), "sk-test-cron")],
        }, dataDir, database);

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_agent_turn_job_fires_at_its_time_in_a_fresh_conversation_and_records_its_usage_and_cost(string store)
    {
        var clock = ClockAtTheMinute();
        await using var server = await StartAsync(store, clock);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Write, Contracts.ApiKeys.Scopes.Chat);
        // Something in the agent's main conversation that an isolated run must not inherit.
        model.ThenEvents(ModelScript.Answer("noted"));
        await client.SendAsync("main", "my secret word is plover");

        var created = await client.AddCronJobAsync(CronApi.AgentTurn("digest", "Summarise the day.", CronApi.Every("5m")));
        created.NextRuns.ShouldBe([clock.GetUtcNow().AddMinutes(5), clock.GetUtcNow().AddMinutes(10), clock.GetUtcNow().AddMinutes(15)]);
        created.Job.State.NextRunAt.ShouldBe(clock.GetUtcNow().AddMinutes(5));
        created.WebhookSecret.ShouldBeNull();

        model.ThenEvents(ModelScript.Answer("Nothing happened today."));
        var requestsBefore = model.Requests.Count;
        clock.Advance(TimeSpan.FromMinutes(5));
        var page = await client.WaitForCronRunsAsync("?job=digest", p => p.Items.Count == 1 && p.Items[0].Status == "succeeded");

        var run = page.Items[0];
        run.Trigger.ShouldBe("schedule");
        run.ScheduledFor.ShouldBe(created.Job.State.NextRunAt);
        run.Usage.ShouldBe(new Contracts.Conversations.TokenTotals(100, 10, 0, 0));
        var ledger = await server.Server.Database.ReadAsync(c => c.ExecuteScalarAsync<long>(
            "SELECT COALESCE(SUM(cost_nano_usd), 0) FROM model_calls WHERE run_id = @RunId", new { run.RunId }), CancellationToken.None);
        run.CostUsd.ShouldBe(ledger / 1_000_000_000m);
        run.Delivery!.Status.ShouldBe("none");
        var agentRun = await client.GetRunAsync(run.RunId!);
        agentRun.Answer.ShouldBe("Nothing happened today.");
        agentRun.ConversationId.ShouldBe(run.ConversationId);

        // Isolated: the model saw the agent's instructions and the job's message, nothing of the main conversation.
        var request = model.Requests.Skip(requestsBefore).Single().Body;
        request.ShouldContain("Summarise the day.");
        request.ShouldNotContain("plover");
        (await client.HistoryAsync(run.ConversationId!)).Items.Select(e => e.Kind).ShouldBe(["user", "assistant"]);

        var job = await client.GetCronJobAsync("digest");
        job.State.LastStatus.ShouldBe("succeeded");
        job.State.ConsecutiveErrors.ShouldBe(0);
        job.State.NextRunAt.ShouldBe(clock.GetUtcNow().AddMinutes(5));
        job.State.RunningRunId.ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_failing_job_backs_off_with_the_reason_shown_and_a_success_clears_it(string store)
    {
        var clock = ClockAtTheMinute();
        await using var server = await StartAsync(store, clock);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Write);
        await client.AddCronJobAsync(CronApi.AgentTurn("flaky", "Check the build.", CronApi.Every("1m")));

        model.ThenStatus(400, """{"error":{"message":"bad request","type":"invalid_request_error"}}""");
        clock.Advance(TimeSpan.FromMinutes(1));
        await client.WaitForCronRunsAsync("?job=flaky", p => p.Items.Count == 1 && p.Items[0].Status == "failed");
        var failing = await client.GetCronJobAsync("flaky");
        failing.State.ConsecutiveErrors.ShouldBe(1);
        failing.State.BackoffUntil.ShouldNotBeNull();
        failing.State.LastError.ShouldNotBeNullOrEmpty();

        // The run due a minute later falls inside the 30-second back-off only if it fell before it ended: move past it.
        model.ThenEvents(ModelScript.Answer("green"));
        clock.Advance(TimeSpan.FromMinutes(1));
        var page = await client.WaitForCronRunsAsync("?job=flaky", p => p.Items.Count == 2 && p.Items[0].Status is "succeeded" or "skipped");
        if (page.Items[0].Status == "skipped")
        {
            page.Items[0].Error!.Code.ShouldBe("backing_off");
            clock.Advance(TimeSpan.FromMinutes(1));
            page = await client.WaitForCronRunsAsync("?job=flaky", p => p.Items.Count == 3 && p.Items[0].Status == "succeeded");
        }
        var recovered = await client.GetCronJobAsync("flaky");
        recovered.State.ConsecutiveErrors.ShouldBe(0);
        recovered.State.BackoffUntil.ShouldBeNull();
        recovered.State.LastStatus.ShouldBe("succeeded");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Cron_run_runs_a_job_now_and_an_at_job_is_disabled_once_it_has_run(string store)
    {
        var clock = ClockAtTheMinute();
        await using var server = await StartAsync(store, clock);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Write);
        var at = clock.GetUtcNow().AddMinutes(10);
        await client.AddCronJobAsync(CronApi.AgentTurn("reminder", "Remind me of the call.", new CronSchedule { Kind = "at", At = at.ToString("O") }));

        model.ThenEvents(ModelScript.Answer("manual"));
        using var response = await client.PostAsync("/v1/cron/reminder/run", null);
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var manual = (await response.Content.ReadFromJsonAsync(KennelJson.Default.CronRun))!;
        manual.Trigger.ShouldBe("manual");
        await client.WaitForCronRunsAsync("?job=reminder", p => p.Items.Single().Status == "succeeded");
        (await client.GetCronJobAsync("reminder")).Enabled.ShouldBeTrue("running it by hand does not use up its one time");

        model.ThenEvents(ModelScript.Answer("scheduled"));
        clock.SetUtcNow(at);
        await client.WaitForCronRunsAsync("?job=reminder", p => p.Items.Count == 2 && p.Items[0].Status == "succeeded");
        var job = await WaitForJobAsync(client, "reminder", j => !j.Enabled);
        job.State.NextRunAt.ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_workspace_never_sees_another_workspaces_jobs_or_runs(string store)
    {
        var clock = ClockAtTheMinute();
        await using var server = await StartAsync(store, clock);
        using var mine = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Write);
        using var theirs = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Write);
        var created = await mine.AddCronJobAsync(CronApi.AgentTurn("private", "hello", CronApi.Every("1h")));

        (await theirs.GetAsync($"/v1/cron/{created.Job.Id}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await theirs.GetAsync("/v1/cron/private")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await theirs.PostAsync($"/v1/cron/{created.Job.Id}/run", null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await theirs.DeleteAsync($"/v1/cron/{created.Job.Id}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await theirs.GetFromJsonAsync("/v1/cron", KennelJson.Default.CronJobPage))!.Items.ShouldBeEmpty();
        // The same name is free in another workspace.
        await theirs.AddCronJobAsync(CronApi.AgentTurn("private", "hello", CronApi.Every("1h")));
        (await mine.GetCronJobAsync("private")).Id.ShouldBe(created.Job.Id);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Bad_input_is_refused_naming_the_field_and_nothing_is_written(string store)
    {
        var clock = ClockAtTheMinute();
        await using var server = await StartAsync(store, clock);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Write);
        var good = CronApi.AgentTurn("ok", "hello", CronApi.Every("1h"));
        (CreateCronJobRequest Request, string Field)[] cases =
        [
            (good with { Name = "Bad Name" }, "name"),
            (good with { Agent = "nobody" }, "agent"),
            (good with { Schedule = new CronSchedule { Kind = "at", At = clock.GetUtcNow().AddMinutes(-1).ToString("O") } }, "schedule.at"),
            (good with { Schedule = CronApi.Every("30s") }, "schedule.every"),
            (good with { Payload = new CronPayload { Kind = "agentTurn" } }, "payload.message"),
            (good with { Payload = new CronPayload { Kind = "workload" } }, "payload.script"),
            (good with { Delivery = new CronDelivery { Mode = "webhook", Url = "ftp://example.com/" } }, "delivery.url"),
            (good with { Limits = new CronLimits { TimeoutSeconds = 0 } }, "limits.timeoutSeconds"),
            (good with { Limits = new CronLimits { TokenBudget = 0 } }, "limits.tokenBudget"),
            (good with { Overlap = "parallel" }, "overlap"),
        ];
        foreach (var (request, field) in cases)
        {
            using var response = await client.PostAsJsonAsync("/v1/cron", request, KennelJson.Default.CreateCronJobRequest);
            await response.ShouldBeProblemAsync(400, "invalid_request", field);
        }
        (await client.GetFromJsonAsync("/v1/cron", KennelJson.Default.CronJobPage))!.Items.ShouldBeEmpty();
        await client.AddCronJobAsync(good);
        using var duplicate = await client.PostAsJsonAsync("/v1/cron", good, KennelJson.Default.CreateCronJobRequest);
        duplicate.StatusCode.ShouldBe(HttpStatusCode.Conflict);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_workload_job_runs_a_real_sandbox_session_and_a_failing_one_is_recorded_as_failed(string store)
    {
        // The sandbox worker runs on the real clock; cron_run fires the jobs.
        await using var server = await StartAsync(store, null, worker: true);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Write);
        await client.AddCronJobAsync(new CreateCronJobRequest
        {
            Name = "tidy",
            Schedule = CronApi.Every("1h"),
            Payload = new CronPayload { Kind = "workload", Script = "echo tidied by $KENNEL_CRON_JOB" },
        });
        await client.AddCronJobAsync(new CreateCronJobRequest
        {
            Name = "broken",
            Schedule = CronApi.Every("1h"),
            Payload = new CronPayload { Kind = "workload", Command = ["sh", "-c", "exit 3"] },
            Limits = new CronLimits { TimeoutSeconds = 30 },
        });

        (await client.PostAsync("/v1/cron/tidy/run", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await client.PostAsync("/v1/cron/broken/run", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var tidy = (await client.WaitForCronRunsAsync("?job=tidy", p => p.Items.Count == 1 && p.Items[0].Status == "succeeded")).Items[0];
        var session = await client.GetSessionAsync(tidy.SessionId!);
        session.Stdout.ShouldBe("tidied by tidy\n");
        session.TimeoutMs.ShouldBe(600_000);
        tidy.Usage.ShouldBeNull();
        tidy.RunId.ShouldBeNull();

        var broken = (await client.WaitForCronRunsAsync("?job=broken", p => p.Items.Count == 1 && p.Items[0].Status == "failed")).Items[0];
        (await client.GetSessionAsync(broken.SessionId!)).ExitCode.ShouldBe(3);
        (await client.GetCronJobAsync("broken")).State.ConsecutiveErrors.ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_run_falling_due_while_the_last_is_going_is_skipped_and_cron_run_is_refused(string store)
    {
        var clock = ClockAtTheMinute();
        await using var server = await StartAsync(store, clock);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Write);
        await client.AddCronJobAsync(CronApi.AgentTurn("slow", "Take your time.", CronApi.Every("1m")));
        model.ThenTextAndHang("thinking");

        clock.Advance(TimeSpan.FromMinutes(1));
        var going = (await client.WaitForCronRunsAsync("?job=slow", p => p.Items.Count == 1 && p.Items[0].Status == "running")).Items[0];
        clock.Advance(TimeSpan.FromMinutes(1));
        var page = await client.WaitForCronRunsAsync("?job=slow", p => p.Items.Count == 2);

        var skipped = page.Items[0];
        skipped.Status.ShouldBe("skipped");
        skipped.Error!.Code.ShouldBe("overlapping");
        skipped.Error.Message.ShouldContain(going.Id);
        skipped.RunId.ShouldBeNull("a skipped run starts nothing");
        using var refused = await client.PostAsync("/v1/cron/slow/run", null);
        await refused.ShouldBeProblemAsync(409, "run_in_progress");
        (await client.GetCronJobAsync("slow")).State.RunningRunId.ShouldBe(going.Id);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_run_past_its_token_budget_is_stopped_before_its_tools_run_and_recorded_as_budget_exceeded(string store)
    {
        var clock = ClockAtTheMinute();
        await using var server = await StartAsync(store, clock);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Write);
        await client.AddCronJobAsync(CronApi.AgentTurn("greedy", "Check everything.", CronApi.Every("1m")) with
        {
            Limits = new CronLimits { TokenBudget = 50, TimeoutSeconds = 120 },
        });
        model.ThenEvents(ModelScript.Exec("call_1", "echo never"));

        clock.Advance(TimeSpan.FromMinutes(1));
        var run = (await client.WaitForCronRunsAsync("?job=greedy", p => p.Items.Count == 1 && p.Items[0].Status == "budget_exceeded")).Items[0];

        run.Error!.Code.ShouldBe("token_budget_exceeded");
        run.Usage.ShouldNotBeNull().Input.ShouldBeGreaterThan(0);
        (await client.HistoryAsync(run.ConversationId!)).Items.ShouldNotContain(e => e.Kind == "tool_call", "the tool call past the budget never ran");
        var job = await client.GetCronJobAsync("greedy");
        job.State.LastStatus.ShouldBe("budget_exceeded");
        job.State.ConsecutiveErrors.ShouldBe(1);
        job.Limits.TokenBudget.ShouldBe(50);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_webhook_delivery_posts_the_result_signed_with_the_jobs_secret(string store)
    {
        await using var receiver = await Delivery.WebhookReceiverHost.StartAsync();
        await using var server = await StartAsync(store, null);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Write);
        var created = await client.AddCronJobAsync(CronApi.AgentTurn("report", "Write the report.", CronApi.Every("1h")) with
        {
            Delivery = new CronDelivery { Mode = "webhook", Url = receiver.Url.ToString() },
        });
        var secret = created.WebhookSecret.ShouldNotBeNull();
        secret.ShouldStartWith("whsec_");
        (await client.GetStringAsync($"/v1/cron/{created.Job.Id}")).ShouldNotContain(secret, Case.Sensitive, "the secret is shown once");
        var stored = await server.Server.Database.ReadAsync(c => c.ExecuteScalarAsync<string>(
            "SELECT webhook_secret FROM cron_jobs WHERE id = @Id", new { created.Job.Id }), CancellationToken.None);
        stored.ShouldNotBeNull().ShouldNotContain(secret["whsec_".Length..]);

        model.ThenEvents(ModelScript.Answer("All green."));
        (await client.PostAsync("/v1/cron/report/run", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await receiver.WaitForRequestsAsync(1);

        var request = receiver.Requests.Single();
        Delivery.WebhookReceiverHost.SignatureIsValid(request, secret).ShouldBeTrue();
        var body = System.Text.Json.JsonSerializer.Deserialize(request.Body, KennelJson.Default.CronRunFinished)!;
        body.Type.ShouldBe("cron.run.finished");
        body.Answer.ShouldBe("All green.");
        body.Run.JobName.ShouldBe("report");
        body.Run.Status.ShouldBe("succeeded");
        var run = (await client.WaitForCronRunsAsync("?job=report", p => p.Items.Single().Delivery!.Status == "delivered")).Items.Single();
        run.Id.ShouldBe(body.Run.Id);
        run.Delivery!.Attempts.ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_run_past_its_timeout_is_recorded_timed_out_and_not_run_again_behind_the_users_back(string store)
    {
        var clock = ClockAtTheMinute();
        await using var server = await StartAsync(store, clock);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Write);
        await client.AddCronJobAsync(CronApi.AgentTurn("stuck", "Wait on the slow API.", CronApi.Every("1h")) with
        {
            Limits = new CronLimits { TimeoutSeconds = 5 },
        });
        model.ThenTextAndHang("still waiting");

        clock.Advance(TimeSpan.FromHours(1));
        await client.WaitForCronRunsAsync("?job=stuck", p => p.Items.Count == 1 && p.Items[0].Status == "running" && model.Requests.Count == 1);
        clock.Advance(TimeSpan.FromSeconds(6));
        var run = (await client.WaitForCronRunsAsync("?job=stuck", p => p.Items.Count == 1 && p.Items[0].Status == "timed_out")).Items[0];

        run.Error!.Code.ShouldBe("turn_timeout");
        (await client.GetRunAsync(run.RunId!)).Status.ShouldBe(Contracts.Conversations.RunStatus.TimedOut);
        // Time goes on, short of the next due run: nothing retries it.
        clock.Advance(TimeSpan.FromMinutes(30));
        await Task.Delay(TimeSpan.FromSeconds(2));
        (await client.CronRunsAsync("?job=stuck")).Items.ShouldHaveSingleItem();
        model.Requests.Count.ShouldBe(1);
        (await client.GetCronJobAsync("stuck")).State.LastStatus.ShouldBe("timed_out");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Runs_missed_while_no_control_plane_was_up_fire_once_on_start_as_a_catch_up(string store)
    {
        var clock = ClockAtTheMinute();
        var database = store == TestStore.Postgres ? await TestStore.CreateDatabaseAsync() : null;
        var dataDir = Directory.CreateTempSubdirectory("kennel-test-cron-catch-up-");
        try
        {
            string key;
            DateTimeOffset first;
            await using (var before = await StartAsync(store, clock, dataDir: dataDir.FullName, database: database))
            {
                using var admin = before.Client();
                key = before.AdminKey;
                first = (await admin.AddCronJobAsync(CronApi.AgentTurn("hourly", "What changed?", CronApi.Every("1h")))).Job.State.NextRunAt!.Value;
            }
            // Down for five of its hours; back 30 minutes after the fifth.
            clock.SetUtcNow(first.AddHours(4).AddMinutes(30));
            model.ThenEvents(ModelScript.Answer("caught up"));
            await using var after = await StartAsync(store, clock, dataDir: dataDir.FullName, database: database);
            using var client = after.Client(key);

            var run = (await client.WaitForCronRunsAsync("?job=hourly", p => p.Items.Count == 1 && p.Items[0].Status == "succeeded")).Items[0];
            run.Trigger.ShouldBe("catch_up");
            run.ScheduledFor.ShouldBe(first.AddHours(4), "one run stands for all five that were missed: the latest");
            await Task.Delay(TimeSpan.FromSeconds(2));
            (await client.CronRunsAsync("?job=hourly")).Items.ShouldHaveSingleItem();
            (await client.GetCronJobAsync("hourly")).State.NextRunAt.ShouldBe(first.AddHours(5));
        }
        finally
        {
            if (database is not null)
            {
                await TestStore.DropDatabaseAsync(database);
            }
            dataDir.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Runs_older_than_30_days_are_pruned_with_their_isolated_conversations_and_their_cost_stays(string store)
    {
        var clock = ClockAtTheMinute();
        await using var server = await StartAsync(store, clock);
        using var client = await server.NewWorkspaceClientAsync(Contracts.ApiKeys.Scopes.Read, Contracts.ApiKeys.Scopes.Write, Contracts.ApiKeys.Scopes.Chat);
        await client.AddCronJobAsync(CronApi.AgentTurn("old", "Anything new?", CronApi.Every("1h")));
        model.ThenEvents(ModelScript.Answer("nothing"));
        clock.Advance(TimeSpan.FromHours(1));
        var run = (await client.WaitForCronRunsAsync("?job=old", p => p.Items.Count == 1 && p.Items[0].Status == "succeeded")).Items[0];
        (await client.PatchAsJsonAsync("/v1/cron/old", new UpdateCronJobRequest { Enabled = false }, KennelJson.Default.UpdateCronJobRequest))
            .EnsureSuccessStatusCode();
        model.ThenEvents(ModelScript.Answer("kept"));
        var kept = await client.SendAsync("main", "a conversation of my own");

        clock.Advance(TimeSpan.FromDays(29));
        await Task.Delay(TimeSpan.FromSeconds(2));
        (await client.CronRunsAsync("?job=old")).Items.ShouldHaveSingleItem("29 days old: kept");
        clock.Advance(TimeSpan.FromDays(2));
        // The tracker prunes on its next tick; the manual clock stands still unless moved, so move it a second at a time.
        for (var i = 0; i < 600 && (await client.CronRunsAsync("?job=old")).Items.Count > 0; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(100);
        }
        (await client.CronRunsAsync("?job=old")).Items.ShouldBeEmpty("31 days old: pruned");

        (await client.GetAsync($"/v1/conversations/{run.ConversationId}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.GetConversationAsync(kept.ConversationId)).Key.ShouldBe("main", "a conversation of a person's is never pruned");
        var cost = await server.Server.Database.ReadAsync(c => c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM model_calls WHERE run_id = @RunId", new { run.RunId }), CancellationToken.None);
        cost.ShouldBe(1, "the usage ledger keeps the pruned run's model call");
        (await client.GetCronJobAsync("old")).State.LastStatus.ShouldBe("succeeded");
    }

    private static async Task<CronJob> WaitForJobAsync(HttpClient client, string name, Func<CronJob, bool> done)
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(1);
        while (true)
        {
            var job = await client.GetCronJobAsync(name);
            if (done(job) || DateTimeOffset.UtcNow > deadline)
            {
                return job;
            }
            await Task.Delay(50);
        }
    }
}
