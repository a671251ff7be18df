using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Daemons;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Daemons;

/// <summary>Daemons over REST: create, list, get with history, partial update, pause, resume, delete, and a manual trigger.</summary>
public sealed class DaemonApiTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_created_daemon_is_listed_and_shown_without_its_secret(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();

        using var created = await client.PostRawAsync("/v1/daemons",
            """{"name":"pr-reviewer","description":"Reviews PRs","workload":{"script":"cat $KENNEL_TRIGGER_PAYLOAD","env":{"MODE":"review"}}""" +
            ""","resources":{"vcpus":2,"memoryMb":256},"timeoutMs":60000,"trigger":{"type":"webhook","signature":"hmac-sha256","secret":"top-secret-value"},"concurrency":"queue"}""");
        var body = await created.Content.ReadAsStringAsync();
        ((int)created.StatusCode).ShouldBe(201, body);
        created.Headers.Location!.ToString().ShouldBe("/v1/daemons/pr-reviewer");
        body.ShouldNotContain("top-secret-value");

        var daemon = await client.GetDaemonAsync("pr-reviewer");
        daemon.Description.ShouldBe("Reviews PRs");
        daemon.Workload.Script.ShouldBe("cat $KENNEL_TRIGGER_PAYLOAD");
        daemon.Workload.Env!["MODE"].ShouldBe("review");
        daemon.Resources.Vcpus.ShouldBe(2);
        daemon.TimeoutMs.ShouldBe(60000);
        daemon.Concurrency.ShouldBe("queue");
        daemon.Status.ShouldBe("active");
        daemon.Trigger.Type.ShouldBe("webhook");
        daemon.Trigger.Signature.ShouldBe("hmac-sha256");
        daemon.Trigger.Header.ShouldBe("X-Hub-Signature-256");
        daemon.Trigger.SecretSet.ShouldBe(true);
        daemon.Trigger.Unauthenticated.ShouldBe(false);
        daemon.Trigger.WebhookPath.ShouldBe($"/v1/webhooks/{daemon.Workspace}/pr-reviewer");
        daemon.Totals!.Sessions.ShouldBe(0);

        var listed = await client.GetStringAsync("/v1/daemons");
        listed.ShouldContain("\"pr-reviewer\"");
        listed.ShouldNotContain("top-secret-value");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_webhook_without_a_signature_must_say_none_and_is_marked_unauthenticated(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();

        using var missing = await client.PostRawAsync("/v1/daemons", """{"name":"open","workload":{"script":"true"},"trigger":{"type":"webhook"}}""");
        await missing.ShouldBeProblemAsync(400, "invalid_request", "trigger.signature");

        var open = await client.CreateDaemonAsync(DaemonApi.Webhook("open", "true", signature: "none"));
        open.Trigger.Unauthenticated.ShouldBe(true);
        open.Trigger.SecretSet.ShouldBe(false);
    }

    [Theory]
    [InlineData("""{"name":"Bad_Name","workload":{"script":"true"},"trigger":{"type":"schedule","cron":"@daily"}}""", "name")]
    [InlineData("""{"name":"x","trigger":{"type":"schedule","cron":"@daily"}}""", "workload")]
    [InlineData("""{"name":"x","workload":{},"trigger":{"type":"schedule","cron":"@daily"}}""", "workload.script")]
    [InlineData("""{"name":"x","workload":{"script":"true","env":{"1X":"y"}},"trigger":{"type":"schedule","cron":"@daily"}}""", "workload.env.1X")]
    [InlineData("""{"name":"x","workload":{"script":"true"}}""", "trigger")]
    [InlineData("""{"name":"x","workload":{"script":"true"},"trigger":{"type":"cron"}}""", "trigger.type")]
    [InlineData("""{"name":"x","workload":{"script":"true"},"trigger":{"type":"schedule","cron":"61 * * * *"}}""", "trigger.cron")]
    [InlineData("""{"name":"x","workload":{"script":"true"},"trigger":{"type":"schedule","cron":"@daily","timezone":"Mars/Olympus"}}""", "trigger.timezone")]
    [InlineData("""{"name":"x","workload":{"script":"true"},"trigger":{"type":"schedule","cron":"@daily","catchUp":"all"}}""", "trigger.catchUp")]
    [InlineData("""{"name":"x","workload":{"script":"true"},"trigger":{"type":"webhook","signature":"md5","secret":"12345678"}}""", "trigger.signature")]
    [InlineData("""{"name":"x","workload":{"script":"true"},"trigger":{"type":"webhook","signature":"hmac-sha256"}}""", "trigger.secret")]
    [InlineData("""{"name":"x","workload":{"script":"true"},"trigger":{"type":"webhook","signature":"hmac-sha256","secret":"12345678","cron":"@daily"}}""", "trigger.cron")]
    [InlineData("""{"name":"x","workload":{"script":"true"},"trigger":{"type":"schedule","cron":"@daily"},"concurrency":"parallel"}""", "concurrency")]
    [InlineData("""{"name":"x","workload":{"script":"true"},"trigger":{"type":"schedule","cron":"@daily"},"status":"stopped"}""", "status")]
    [InlineData("""{"name":"x","workload":{"script":"true"},"trigger":{"type":"schedule","cron":"@daily"},"timeoutMs":1}""", "timeoutMs")]
    [InlineData("""{"name":"x","workload":{"script":"true"},"trigger":{"type":"schedule","cron":"@daily"},"colour":"red"}""", "colour")]
    public async Task A_bad_definition_is_a_400_naming_the_field_and_creates_nothing(string body, string field)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = await server.NewWorkspaceClientAsync();

        using var response = await client.PostRawAsync("/v1/daemons", body);

        var problem = await response.ShouldBeProblemAsync(400, field == "colour" ? "invalid_json" : "invalid_request", field);
        problem.Detail.ShouldNotBeNullOrWhiteSpace();
        (await client.GetFromJsonAsync("/v1/daemons", KennelJson.Default.DaemonList))!.Items.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_second_daemon_of_the_same_name_is_a_409(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        await client.CreateDaemonAsync(DaemonApi.Scheduled("nightly", "true", "@daily"));

        using var again = await client.PostAsJsonAsync("/v1/daemons", DaemonApi.Scheduled("nightly", "false", "@hourly"), KennelJson.Default.CreateDaemonRequest);

        await again.ShouldBeProblemAsync(409, "daemon_exists");
        (await client.GetDaemonAsync("nightly")).Workload.Script.ShouldBe("true");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_update_changes_only_the_fields_given_and_keeps_the_secret(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        await client.CreateDaemonAsync(DaemonApi.Webhook("hook", "echo one"));

        using var patched = await client.PatchAsync("/v1/daemons/hook", JsonContent(
            """{"description":"now documented","workload":{"script":"echo two"},"trigger":{"type":"webhook","signature":"hmac-sha256","header":"X-Signature"}}"""));
        ((int)patched.StatusCode).ShouldBe(200, await patched.Content.ReadAsStringAsync());

        var daemon = await client.GetDaemonAsync("hook");
        daemon.Description.ShouldBe("now documented");
        daemon.Workload.Script.ShouldBe("echo two");
        daemon.Trigger.Header.ShouldBe("X-Signature");
        daemon.Trigger.SecretSet.ShouldBe(true);
        daemon.Concurrency.ShouldBe("allow");

        using var bad = await client.PatchAsync("/v1/daemons/hook", JsonContent("""{"concurrency":"sometimes"}"""));
        await bad.ShouldBeProblemAsync(400, "invalid_request", "concurrency");
        (await client.GetDaemonAsync("hook")).Concurrency.ShouldBe("allow");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Pause_clears_the_next_run_and_resume_brings_it_back(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var created = await client.CreateDaemonAsync(DaemonApi.Scheduled("triage", "true", "0 3 * * *", "Europe/Berlin"));
        created.Trigger.NextRunAt.ShouldNotBeNull();
        created.Trigger.NextRunAt!.Value.ShouldBeGreaterThan(DateTimeOffset.UtcNow);
        TimeZoneInfo.ConvertTime(created.Trigger.NextRunAt.Value, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin")).Hour.ShouldBe(3);

        using var paused = await client.PostAsync("/v1/daemons/triage/pause", null);
        var pausedDaemon = (await paused.Content.ReadFromJsonAsync(KennelJson.Default.Daemon))!;
        pausedDaemon.Status.ShouldBe("paused");
        pausedDaemon.Trigger.NextRunAt.ShouldBeNull();

        using var resumed = await client.PostAsync("/v1/daemons/triage/resume", null);
        var resumedDaemon = (await resumed.Content.ReadFromJsonAsync(KennelJson.Default.Daemon))!;
        resumedDaemon.Status.ShouldBe("active");
        resumedDaemon.Trigger.NextRunAt.ShouldBe(created.Trigger.NextRunAt);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_manual_trigger_starts_a_session_that_carries_the_daemon_and_trigger(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        await client.CreateDaemonAsync(DaemonApi.Scheduled("by-hand", "cat $KENNEL_TRIGGER_PAYLOAD", "@yearly"));

        using var response = await client.PostRawAsync("/v1/daemons/by-hand/trigger", """{"payload":{"pr":42}}""");
        ((int)response.StatusCode).ShouldBe(202, await response.Content.ReadAsStringAsync());
        var result = (await response.Content.ReadFromJsonAsync(KennelJson.Default.DaemonTriggerResult))!;
        result.Outcome.ShouldBe("started");
        response.Headers.Location!.ToString().ShouldBe($"/v1/sessions/{result.SessionId}");

        var session = await client.GetSessionAsync(result.SessionId!);
        session.Daemon.ShouldBe("by-hand");
        session.Trigger.ShouldBe("manual");
        session.Env["KENNEL_TRIGGER_TYPE"].ShouldBe("manual");
        session.Env["KENNEL_TRIGGER_PAYLOAD"].ShouldBe("/run/kennel/trigger/payload");
        var daemon = await client.GetDaemonAsync("by-hand");
        daemon.RecentSessions!.Single().Id.ShouldBe(session.Id);
        daemon.Totals!.Sessions.ShouldBe(1);
        await client.CancelAsync(session.Id);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Delete_stops_the_daemon_and_keeps_its_sessions(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        await client.CreateDaemonAsync(DaemonApi.Webhook("gone", "true", signature: "none"));
        var run = await client.TriggerDaemonAsync("gone");

        using var deleted = await client.DeleteAsync("/v1/daemons/gone");
        ((int)deleted.StatusCode).ShouldBe(204);

        using var get = await client.GetAsync("/v1/daemons/gone");
        await get.ShouldBeProblemAsync(404, "not_found");
        using var unauthenticated = TestServer.Client(server.Url, null);
        using var hook = await unauthenticated.PostRawAsync($"/v1/webhooks/{(await client.GetSessionAsync(run.SessionId!)).Workspace}/gone", "{}");
        await hook.ShouldBeProblemAsync(401, "signature_invalid"); // as for any URL with no webhook daemon behind it
        var kept = await client.GetSessionAsync(run.SessionId!);
        kept.Daemon.ShouldBe("gone");
        await client.CancelAsync(kept.Id);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Another_workspace_cannot_see_or_change_a_daemon(string store)
    {
        var server = await servers.GetAsync(store);
        using var owner = await server.NewWorkspaceClientAsync();
        using var other = await server.NewWorkspaceClientAsync();
        await owner.CreateDaemonAsync(DaemonApi.Scheduled("private", "true", "@daily"));

        (await other.GetFromJsonAsync("/v1/daemons", KennelJson.Default.DaemonList))!.Items.ShouldBeEmpty();
        foreach (var request in new Func<Task<HttpResponseMessage>>[]
        {
            () => other.GetAsync("/v1/daemons/private"),
            () => other.PatchAsync("/v1/daemons/private", JsonContent("""{"description":"mine now"}""")),
            () => other.PostAsync("/v1/daemons/private/pause", null),
            () => other.PostRawAsync("/v1/daemons/private/trigger", "{}"),
            () => other.DeleteAsync("/v1/daemons/private"),
        })
        {
            using var response = await request();
            await response.ShouldBeProblemAsync(404, "not_found");
        }
        var daemon = await owner.GetDaemonAsync("private");
        daemon.Status.ShouldBe("active");
        daemon.Description.ShouldBe("");
        daemon.Totals!.Sessions.ShouldBe(0);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Reading_needs_mcp_read_and_changing_needs_mcp_write(string store)
    {
        var server = await servers.GetAsync(store);
        using var reader = await server.NewWorkspaceClientAsync(Scopes.Read);

        (await reader.GetFromJsonAsync("/v1/daemons", KennelJson.Default.DaemonList))!.Items.ShouldBeEmpty();
        using var create = await reader.PostAsJsonAsync("/v1/daemons", DaemonApi.Scheduled("x", "true", "@daily"), KennelJson.Default.CreateDaemonRequest);
        await create.ShouldBeForbiddenAsync(Scopes.Write);
        using var anonymous = TestServer.Client(server.Url, null);
        using var list = await anonymous.GetAsync("/v1/daemons");
        await list.ShouldBeProblemAsync(401, "unauthorized");
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
