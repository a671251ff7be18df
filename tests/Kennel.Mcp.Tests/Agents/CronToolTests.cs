using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Cron;
using Kennel.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Kennel.Mcp.Tests.Agents;

/// <summary>
/// The cron tools of <c>/w/{workspace}/mcp</c> through the official C# SDK client, with a scripted provider in OpenAI's
/// wire format answering the jobs' agent turns: a job added, listed, run, its run in the history, and removed; the
/// scopes each tool needs; and one workspace never seeing another's jobs.
/// </summary>
public sealed class CronToolTests(ChatServers servers) : IClassFixture<ChatServers>
{
    private const string Turn = "\"payload\": {\"kind\": \"agentTurn\", \"message\": \"x\"}, \"agent\": \"main\"";

    /// <summary>Bad arguments to each cron tool and the field the <c>invalid_arguments</c> error must name; <see cref="AgentToolArgumentTests"/> runs them.</summary>
    public static readonly (string Tool, string Arguments, string Field)[] BadCalls =
    [
        ("cron_add", $$$"""{"name": "a", "schedule": {"kind": "hourly"}, {{{Turn}}}}""", "schedule.kind"),
        ("cron_add", $$$"""{"name": "a", "schedule": {"kind": "at", "at": "2020-01-01T00:00:00Z"}, {{{Turn}}}}""", "schedule.at"),
        ("cron_add", $$$"""{"name": "a", "schedule": {"kind": "at", "at": "next tuesday"}, {{{Turn}}}}""", "schedule.at"),
        ("cron_add", $$$"""{"name": "a", "schedule": {"kind": "every", "every": "30s"}, {{{Turn}}}}""", "schedule.every"),
        ("cron_add", $$$"""{"name": "a", "schedule": {"kind": "every", "everyMs": 0}, {{{Turn}}}}""", "schedule.everyMs"),
        ("cron_add", $$$"""{"name": "a", "schedule": {"kind": "cron", "expr": "61 * * * *"}, {{{Turn}}}}""", "schedule.expr"),
        ("cron_add", $$$"""{"name": "a", "schedule": {"kind": "cron", "expr": "@daily", "tz": "Mars/Olympus"}, {{{Turn}}}}""", "schedule.tz"),
        ("cron_add", """{"name": "a", "schedule": {"kind": "every", "every": "5m"}, "payload": {"kind": "agentTurn"}, "agent": "main"}""", "payload.message"),
        ("cron_add", """{"name": "a", "schedule": {"kind": "every", "every": "5m"}, "payload": {"kind": "email", "message": "x"}, "agent": "main"}""", "payload.kind"),
        ("cron_add", """{"name": "a", "schedule": {"kind": "every", "every": "5m"}, "payload": {"kind": "agentTurn", "message": "x"}}""", "agent"),
        ("cron_add", """{"name": "a", "schedule": {"kind": "every", "every": "5m"}, "payload": {"kind": "agentTurn", "message": "x"}, "agent": "nobody"}""", "agent"),
        ("cron_add", """{"name": "a", "schedule": {"kind": "every", "every": "5m"}, "payload": {"kind": "workload"}}""", "payload.script"),
        ("cron_add", $$$"""{"name": "a", "schedule": {"kind": "every", "every": "5m"}, {{{Turn}}}, "delivery": {"mode": "webhook", "url": "ftp://example.com/x"}}""", "delivery.url"),
        ("cron_add", $$$"""{"name": "a", "schedule": {"kind": "every", "every": "5m"}, {{{Turn}}}, "delivery": {"mode": "webhook"}}""", "delivery.url"),
        ("cron_add", $$$"""{"name": "a", "schedule": {"kind": "every", "every": "5m"}, {{{Turn}}}, "delivery": {"mode": "channel"}}""", "delivery.channel"),
        ("cron_add", $$$"""{"name": "a", "schedule": {"kind": "every", "every": "5m"}, {{{Turn}}}, "limits": {"timeoutSeconds": 0}}""", "limits.timeoutSeconds"),
        ("cron_add", $$$"""{"name": "a", "schedule": {"kind": "every", "every": "5m"}, {{{Turn}}}, "limits": {"tokenBudget": 0}}""", "limits.tokenBudget"),
        ("cron_add", $$$"""{"name": "a", "schedule": {"kind": "every", "every": "5m"}, {{{Turn}}}, "overlap": "parallel"}""", "overlap"),
        ("cron_add", $$$"""{"name": "a", "schedule": {"kind": "every", "every": "5m"}, {{{Turn}}}, "deleteAfterRun": true}""", "deleteAfterRun"),
        ("cron_add", $$$"""{"name": "Not A Name", "schedule": {"kind": "every", "every": "5m"}, {{{Turn}}}}""", "name"),
        ("cron_add", $$$"""{"schedule": {"kind": "every", "every": "5m"}, {{{Turn}}}}""", "name"),
        ("cron_add", """{"name": "a", "payload": {"kind": "agentTurn", "message": "x"}, "agent": "main"}""", "schedule"),
        ("cron_list", """{"limit": 0}""", "limit"),
        ("cron_list", """{"limit": 201}""", "limit"),
        ("cron_list", """{"enabled": "sometimes"}""", "enabled"),
        ("cron_runs", """{"limit": 0}""", "limit"),
        ("cron_runs", """{"status": "sleeping"}""", "status"),
        ("cron_runs", """{"cursor": "page-2"}""", "cursor"),
        ("cron_runs", """{"job": ""}""", "job"),
        ("cron_run", "{}", "job"),
        ("cron_run", """{"job": ""}""", "job"),
        ("cron_remove", """{"job": 7}""", "job"),
        ("cron_remove", $$"""{"job": "{{new string('j', 65)}}"}""", "job"),
    ];

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_job_is_added_listed_run_seen_in_the_history_and_removed(string store)
    {
        var server = await servers.GetAsync(store);
        var workspace = AgentMcp.NewWorkspace();
        await using var client = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, [.. Scopes.All]));

        var added = await client.CallAsync("cron_add", """
            {"name": "digest", "description": "the daily digest", "agent": "main",
             "schedule": {"kind": "cron", "expr": "0 18 * * 1-5", "tz": "Europe/Berlin"},
             "payload": {"kind": "agentTurn", "message": "Summarise the day."},
             "delivery": {"mode": "webhook", "url": "https://example.com/kennel"}, "limits": {"timeoutSeconds": 120, "tokenBudget": 5000}}
            """);
        var created = Mcp.Read(added, KennelJson.Default.CreatedCronJob);
        created.Job.Name.ShouldBe("digest");
        created.Job.Schedule.ShouldBe(new CronSchedule { Kind = "cron", Expr = "0 18 * * 1-5", Tz = "Europe/Berlin" });
        created.NextRuns.Count.ShouldBe(3);
        created.NextRuns.ShouldAllBe(t => t > DateTimeOffset.UtcNow && TimeZoneInfo.ConvertTime(t, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin")).Hour == 18);
        created.Job.State.NextRunAt.ShouldBe(created.NextRuns[0]);
        created.WebhookSecret.ShouldNotBeNull().ShouldStartWith("whsec_");
        added.Text().ShouldContain("shown once");
        var again = (await client.CallAsync("cron_add", """
            {"name": "digest", "agent": "main", "schedule": {"kind": "every", "every": "1h"}, "payload": {"kind": "agentTurn", "message": "x"}}
            """)).Failure();
        again.Error.ShouldBe(Kennel.ControlPlane.Cron.CronService.JobExists, again.Message);

        var listed = Mcp.Read(await client.CallAsync("cron_list"), KennelJson.Default.CronJobPage);
        var job = listed.Items.ShouldHaveSingleItem();
        job.Id.ShouldBe(created.Job.Id);
        job.Delivery.Url.ShouldBe("https://example.com/kennel");
        job.Limits.ShouldBe(new CronLimits { TimeoutSeconds = 120, TokenBudget = 5000 });
        JsonSerializer.Serialize(job, KennelJson.Default.CronJob).ShouldNotContain("whsec_");

        servers.Model.ThenEvents(ModelScript.Answer("A quiet day."));
        var run = Mcp.Read(await client.CallAsync("cron_run", """{"job": "digest"}"""), KennelJson.Default.CronRun);
        run.Trigger.ShouldBe("manual");
        run.JobId.ShouldBe(job.Id);
        var ended = await WaitForRunsAsync(client, """{"job": "digest"}""", p => p.Items.Count == 1 && p.Items[0].Status != "running");
        var done = ended.Items[0];
        done.Id.ShouldBe(run.Id);
        done.Status.ShouldBe("succeeded", done.Error?.Message);
        done.Usage.ShouldBe(new Kennel.Contracts.Conversations.TokenTotals(100, 10, 0, 0));
        done.CostUsd.ShouldNotBeNull();
        done.ConversationId.ShouldNotBeNull();
        done.Delivery!.Status.ShouldNotBe("none");
        var history = Mcp.Read(await client.CallAsync("chat_history", $$"""{"session": "{{done.ConversationId}}"}"""), KennelJson.Default.TranscriptPage);
        history.Items.Select(e => e.Text).ShouldBe(["Summarise the day.", "A quiet day."]);
        Mcp.Read(await client.CallAsync("cron_runs", """{"status": "succeeded,failed", "limit": 1}"""), KennelJson.Default.CronRunPage).Items.Single().Id.ShouldBe(run.Id);
        Mcp.Read(await client.CallAsync("cron_runs", """{"status": "skipped"}"""), KennelJson.Default.CronRunPage).Items.ShouldBeEmpty();
        Mcp.Read(await client.CallAsync("cron_list"), KennelJson.Default.CronJobPage).Items.Single().State.LastStatus.ShouldBe("succeeded");

        var removed = Mcp.Read(await client.CallAsync("cron_remove", $$"""{"job": "{{job.Id}}"}"""), KennelJson.Default.RemovedCronJob);
        removed.ShouldBe(new RemovedCronJob(job.Id, true));
        Mcp.Read(await client.CallAsync("cron_list"), KennelJson.Default.CronJobPage).Items.ShouldBeEmpty();
        Mcp.Read(await client.CallAsync("cron_runs"), KennelJson.Default.CronRunPage).Items.Single().Id.ShouldBe(run.Id); // the history stays
        (await client.CallAsync("cron_run", """{"job": "digest"}""")).Failure().Error.ShouldBe("not_found");
    }

    [Fact]
    public async Task A_removed_jobs_history_is_still_found_by_its_name_or_id()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var workspace = AgentMcp.NewWorkspace();
        await using var client = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, [.. Scopes.All]));
        var job = Mcp.Read(await client.CallAsync("cron_add", $$$"""{"name": "gone", "schedule": {"kind": "every", "every": "1h"}, {{{Turn}}}}"""),
            KennelJson.Default.CreatedCronJob).Job;
        servers.Model.ThenEvents(ModelScript.Answer("done"));
        var run = Mcp.Read(await client.CallAsync("cron_run", """{"job": "gone"}"""), KennelJson.Default.CronRun);
        await WaitForRunsAsync(client, """{"job": "gone"}""", p => p.Items.Count == 1 && p.Items[0].Status != "running");
        Mcp.Read(await client.CallAsync("cron_remove", """{"job": "gone"}"""), KennelJson.Default.RemovedCronJob);

        foreach (var reference in new[] { "gone", job.Id })
        {
            var history = await client.CallAsync("cron_runs", $$"""{"job": "{{reference}}"}""");
            Mcp.Read(history, KennelJson.Default.CronRunPage).Items.Single().Id.ShouldBe(run.Id);
        }
    }

    [Fact]
    public async Task Cron_list_pages_by_name_and_filters_enabled_jobs()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var workspace = AgentMcp.NewWorkspace();
        await using var client = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, [.. Scopes.All]));
        foreach (var (name, enabled) in new[] { ("c-job", true), ("a-job", true), ("b-job", false) })
        {
            Mcp.Read(await client.CallAsync("cron_add", $$"""
                {"name": "{{name}}", "enabled": {{(enabled ? "true" : "false")}}, "schedule": {"kind": "every", "every": "1h"}, {{Turn}}}
                """), KennelJson.Default.CreatedCronJob);
        }

        var first = Mcp.Read(await client.CallAsync("cron_list", """{"limit": 2}"""), KennelJson.Default.CronJobPage);
        first.Items.Select(j => j.Name).ShouldBe(["a-job", "b-job"]);
        var second = Mcp.Read(await client.CallAsync("cron_list", $$"""{"limit": 2, "cursor": "{{first.NextCursor}}"}"""), KennelJson.Default.CronJobPage);
        second.Items.Select(j => j.Name).ShouldBe(["c-job"]);
        second.NextCursor.ShouldBeNull();
        var disabled = Mcp.Read(await client.CallAsync("cron_list", """{"enabled": "disabled"}"""), KennelJson.Default.CronJobPage).Items.ShouldHaveSingleItem();
        disabled.Name.ShouldBe("b-job");
        disabled.State.NextRunAt.ShouldBeNull();
        Mcp.Read(await client.CallAsync("cron_list", """{"enabled": "enabled"}"""), KennelJson.Default.CronJobPage).Items.Select(j => j.Name).ShouldBe(["a-job", "c-job"]);
    }

    [Fact]
    public async Task A_read_only_key_lists_but_cannot_add_run_or_remove()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var workspace = AgentMcp.NewWorkspace();
        await using var writer = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, Scopes.Read, Scopes.Write));
        Mcp.Read(await writer.CallAsync("cron_add", $$$"""{"name": "kept", "schedule": {"kind": "every", "every": "1h"}, {{{Turn}}}}"""), KennelJson.Default.CreatedCronJob);
        await using var reader = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, Scopes.Read));

        var names = (await reader.ListToolsAsync()).Select(t => t.Name).ToList();
        names.ShouldContain("cron_list");
        names.ShouldContain("cron_runs");
        foreach (var (tool, arguments) in new[]
        {
            ("cron_add", $$$"""{"name": "new", "schedule": {"kind": "every", "every": "1h"}, {{{Turn}}}}"""),
            ("cron_run", """{"job": "kept"}"""),
            ("cron_remove", """{"job": "kept"}"""),
        })
        {
            names.ShouldNotContain(tool);
            var refused = (await reader.CallAsync(tool, arguments)).Failure();
            refused.Error.ShouldBe("insufficient_scope", tool);
            refused.Message.ShouldBe("Missing scopes: mcp:write");
        }
        Mcp.Read(await reader.CallAsync("cron_list"), KennelJson.Default.CronJobPage).Items.Select(j => j.Name).ShouldBe(["kept"]);
        Mcp.Read(await reader.CallAsync("cron_runs"), KennelJson.Default.CronRunPage).Items.ShouldBeEmpty(); // nothing ran
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Another_workspace_never_sees_runs_or_removes_a_job(string store)
    {
        var server = await servers.GetAsync(store);
        var (mine, other) = (AgentMcp.NewWorkspace(), AgentMcp.NewWorkspace());
        await using var owner = await server.ConnectAgentAsync(mine, await server.NewKeyAsync(mine, [.. Scopes.All]));
        var job = Mcp.Read(await owner.CallAsync("cron_add", $$$"""{"name": "private", "schedule": {"kind": "every", "every": "1h"}, {{{Turn}}}}"""),
            KennelJson.Default.CreatedCronJob).Job;
        await using var stranger = await server.ConnectAgentAsync(other, await server.NewKeyAsync(other, [.. Scopes.All]));

        Mcp.Read(await stranger.CallAsync("cron_list"), KennelJson.Default.CronJobPage).Items.ShouldBeEmpty();
        foreach (var reference in new[] { "private", job.Id })
        {
            foreach (var tool in new[] { "cron_run", "cron_remove", "cron_runs" })
            {
                var refused = (await stranger.CallAsync(tool, $$"""{"job": "{{reference}}"}""")).Failure();
                refused.Error.ShouldBe("not_found", $"{tool} {reference}");
            }
        }
        Mcp.Read(await owner.CallAsync("cron_list"), KennelJson.Default.CronJobPage).Items.ShouldHaveSingleItem().Id.ShouldBe(job.Id);
        Mcp.Read(await owner.CallAsync("cron_runs"), KennelJson.Default.CronRunPage).Items.ShouldBeEmpty();
    }

    [Fact]
    public async Task Running_or_removing_an_unknown_job_is_not_found_naming_it()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var workspace = AgentMcp.NewWorkspace();
        await using var client = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, [.. Scopes.All]));

        foreach (var tool in new[] { "cron_run", "cron_remove", "cron_runs" })
        {
            var failure = (await client.CallAsync(tool, """{"job": "cron_01nothingtoseehere000000"}""")).Failure();
            failure.Error.ShouldBe("not_found", tool);
            failure.Message.ShouldContain("cron_01nothingtoseehere000000");
        }
    }

    private static async Task<CronRunPage> WaitForRunsAsync(McpClient client, string arguments, Func<CronRunPage, bool> done)
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(1);
        while (true)
        {
            var page = Mcp.Read(await client.CallAsync("cron_runs", arguments), KennelJson.Default.CronRunPage);
            if (done(page) || DateTimeOffset.UtcNow > deadline)
            {
                return page;
            }
            await Task.Delay(50);
        }
    }
}
