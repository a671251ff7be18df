using System.Net;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Observability;

/// <summary>
/// <c>/metrics</c> as a Prometheus server scrapes it: after real work (sessions in real sandboxes, MCP tool calls, OAuth
/// token requests) the series hold what happened; only installation admins may read it, or anyone on
/// <c>KENNEL_METRICS_LISTEN</c>, which then alone serves it.
/// </summary>
public sealed class MetricsTests
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_scrape_after_real_work_counts_it(string store)
    {
        await using var server = await TestServer.StartAsync(store);
        using var admin = server.Client();
        var sessions = new[] { "sleep 0.2", "sleep 0.2", "sleep 0.2; exit 3" };
        var created = new List<Session>();
        foreach (var script in sessions)
        {
            created.Add(await admin.RunScriptAsync(script));
        }
        foreach (var session in created)
        {
            (await admin.WaitAsync(session.Id)).Status.ShouldBeOneOf(SessionStatus.Succeeded, SessionStatus.Failed);
        }
        using (await server.CallAsync(server.AdminKey, "tools/call", """{"name": "list-sessions", "arguments": {}}""")) { }
        using (await server.CallAsync(server.AdminKey, "tools/call", """{"name": "no-such-tool", "arguments": {}}""")) { }
        await server.FullFlowAsync("metrics");
        using (await server.TokenAsync(new() { ["grant_type"] = "authorization_code", ["client_id"] = "nobody", ["code"] = "x" })) { }

        var scrape = await Scrape.ReadAsync(admin);

        scrape.Value("kennel_sessions_ended_total", ("status", "succeeded")).ShouldBe(2);
        scrape.Value("kennel_sessions_ended_total", ("status", "failed")).ShouldBe(1);
        scrape.Value("kennel_sessions", ("status", "pending")).ShouldBe(0);
        scrape.Value("kennel_sessions", ("status", "running")).ShouldBe(0);
        scrape.Value("kennel_queue_depth").ShouldBe(0);
        scrape.Value("kennel_queue_wait_seconds_count").ShouldBe(3);
        scrape.Value("kennel_session_start_seconds_count").ShouldBe(3);
        scrape.Value("kennel_workers", ("health", "healthy")).ShouldBe(1);
        scrape.Value("kennel_workers", ("health", "lost")).ShouldBe(0);
        scrape.Value("kennel_workers_capacity", ("resource", "slots")).ShouldBe(16);
        scrape.Value("kennel_workers_capacity", ("resource", "vcpus")).ShouldBe(8);
        scrape.Value("kennel_workers_capacity_used", ("resource", "slots")).ShouldBe(0);
        scrape.Value("http_server_request_duration_seconds_count",
            ("http_route", "/v1/sessions/"), ("http_request_method", "POST"), ("http_response_status_code", "202")).ShouldBe(3);
        scrape.Value("kennel_mcp_tool_calls_total", ("tool", "list-sessions"), ("outcome", "ok")).ShouldBe(1);
        scrape.Value("kennel_mcp_tool_calls_total", ("tool", "(unknown)"), ("outcome", "unknown_tool")).ShouldBe(1);
        scrape.Value("kennel_oauth_tokens_issued_total", ("grant_type", "authorization_code")).ShouldBe(1);
        scrape.Value("kennel_oauth_tokens_refused_total", ("grant_type", "authorization_code"), ("error", "invalid_client")).ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Queued_sessions_show_in_the_gauges_while_no_worker_takes_them(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false });
        using var admin = server.Client();
        await admin.RunScriptAsync("true");
        await admin.RunScriptAsync("true");

        var scrape = await Scrape.ReadAsync(admin);

        scrape.Value("kennel_sessions", ("status", "pending")).ShouldBe(2);
        scrape.Value("kennel_queue_depth").ShouldBe(2);
        scrape.Value("kennel_workers", ("health", "healthy")).ShouldBe(0);
        scrape.Value("kennel_queue_wait_seconds_count").ShouldBeNull();
    }

    [Fact]
    public async Task Metrics_are_refused_without_an_installation_admin_key()
    {
        await using var server = await TestServer.StartAsync(TestStore.Sqlite, s => s with { EmbeddedWorker = false });
        using var admin = server.Client();
        var reader = (await admin.CreateApiKeyAsync(null, Scopes.Read)).Key;
        var otherAdmin = (await admin.CreateApiKeyAsync("elsewhere", Scopes.Admin)).Key;

        using (var anonymous = await server.Client(null).GetAsync("/metrics"))
        {
            anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        using (var notAdmin = await server.Client(reader).GetAsync("/metrics"))
        {
            notAdmin.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            (await notAdmin.ReadProblemAsync()).Code.ShouldBe("insufficient_scope");
        }
        using (var workspaceAdmin = await server.Client(otherAdmin).GetAsync("/metrics"))
        {
            workspaceAdmin.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            var problem = await workspaceAdmin.ReadProblemAsync();
            problem.Code.ShouldBe("workspace_forbidden");
            workspaceAdmin.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        }
    }

    [Fact]
    public async Task With_a_metrics_listener_metrics_are_served_there_to_anyone_and_not_on_the_api()
    {
        var listen = $"127.0.0.1:{LoopbackPort.Free()}";
        await using var server = await TestServer.StartAsync(TestStore.Sqlite, s => s with { EmbeddedWorker = false, MetricsListen = listen });
        using var admin = server.Client();
        await admin.RunScriptAsync("true");
        using var anyone = TestServer.Client(new Uri($"http://{listen}"), null);

        var scrape = await Scrape.ReadAsync(anyone);

        scrape.Value("kennel_queue_depth").ShouldBe(1);
        scrape.Value("http_server_request_duration_seconds_count",
            ("http_route", "/v1/sessions/"), ("http_request_method", "POST"), ("http_response_status_code", "202")).ShouldBe(1);
        using (var onApi = await admin.GetAsync("/metrics"))
        {
            onApi.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }
        using (var apiOnMetrics = await anyone.GetAsync("/v1/sessions"))
        {
            apiOnMetrics.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }
    }
}
