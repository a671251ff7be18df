using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Quotas;
using Kennel.Contracts.Sessions;
using Kennel.Contracts.Workers;
using Kennel.Testing;

namespace Kennel.Tests.Quotas;

/// <summary>
/// Per-workspace limits: running sessions and vCPUs hold sessions in the queue; the queued limit refuses a create. The
/// installation's defaults come from env; an installation admin overrides them per workspace.
/// </summary>
public sealed class QuotaTests
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_workspace_at_its_running_limit_waits_while_others_take_the_free_slots(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false });
        using var admin = server.Client();
        using var worker = await ProtocolWorker.EnrollAsync(admin, new WorkerCapacity(16, 16384, 4));
        var (limited, limitedName) = await NewWorkspaceAsync(server);
        using var _ = limited;
        await SetAsync(admin, limitedName, new SetQuotaRequest { MaxRunningSessions = 1 });
        using var other = await server.NewWorkspaceClientAsync();
        var held = new[] { await limited.RunScriptAsync("true"), await limited.RunScriptAsync("true"), await limited.RunScriptAsync("true") };
        var free = await other.RunScriptAsync("true");

        var assigned = (await worker.PollAsync()).Select(a => a.SessionId).ToList();

        assigned.ShouldBe([held[0].Id, free.Id], ignoreOrder: true);
        await worker.FinishAsync(held[0].Id);
        (await worker.PollAsync()).Select(a => a.SessionId).ShouldBe([held[1].Id]);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task The_vcpu_limit_holds_sessions_back_and_refuses_one_that_could_never_start(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false });
        using var admin = server.Client();
        using var worker = await ProtocolWorker.EnrollAsync(admin, new WorkerCapacity(16, 16384, 8));
        var (tenant, name) = await NewWorkspaceAsync(server);
        using var _ = tenant;
        await SetAsync(admin, name, new SetQuotaRequest { MaxVcpus = 3 });
        var two = await tenant.CreateSessionAsync(Sized(2));
        var another = await tenant.CreateSessionAsync(Sized(2));
        var one = await tenant.CreateSessionAsync(Sized(1));

        (await worker.PollAsync()).Select(a => a.SessionId).ShouldBe([two.Id, one.Id]);
        (await tenant.GetSessionAsync(another.Id)).WorkerId.ShouldBeNull();

        using var tooBig = await tenant.PostAsJsonAsync("/v1/sessions", Sized(4), KennelJson.Default.CreateSessionRequest);
        var problem = await tooBig.ShouldBeProblemAsync(400, "quota_exceeded", "resources.vcpus");
        problem.Detail.ShouldNotBeNull().ShouldContain("at most 3");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_create_past_the_queued_limit_is_refused_and_writes_nothing(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => s with
        {
            EmbeddedWorker = false,
            Quotas = new Kennel.ControlPlane.Quotas.QuotaOptions { Defaults = new WorkspaceLimits(null, null, 3) },
        });
        using var tenant = await server.NewWorkspaceClientAsync();
        using var neighbour = await server.NewWorkspaceClientAsync();
        for (var i = 0; i < 3; i++)
        {
            await tenant.RunScriptAsync("true");
        }

        using var refused = await tenant.PostRawAsync("/v1/sessions", """{"script": "true"}""");

        var problem = await refused.ShouldBeProblemAsync(429, "queue_full");
        problem.Detail.ShouldNotBeNull().ShouldContain("3 sessions queued");
        using var list = await tenant.GetAsync("/v1/sessions");
        (await list.Content.ReadFromJsonAsync(KennelJson.Default.SessionPage))!.Items.Count.ShouldBe(3);
        (await neighbour.RunScriptAsync("true")).Status.ShouldBe(SessionStatus.Pending); // the limit is per workspace
        var quota = await tenant.GetFromJsonAsync("/v1/quota", KennelJson.Default.WorkspaceQuota);
        quota!.Usage.QueuedSessions.ShouldBe(3);
        quota.Limits.MaxQueuedSessions.ShouldBe(3);
        quota.Overridden.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Only_an_installation_admin_sets_quotas_and_a_member_reads_only_its_own(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false });
        using var admin = server.Client();
        var (member, name) = await NewWorkspaceAsync(server);
        using var _ = member;
        using var teamAdmin = server.Client((await admin.CreateApiKeyAsync(name, Scopes.Read, Scopes.Write, Scopes.Admin)).Key);

        using (var raise = await teamAdmin.PutAsJsonAsync($"/v1/workspaces/{name}/quota", new SetQuotaRequest { MaxRunningSessions = 1000 },
            KennelJson.Default.SetQuotaRequest))
        {
            await raise.ShouldBeProblemAsync(403, "workspace_forbidden");
        }
        using (var other = await member.GetAsync("/v1/workspaces/default/quota"))
        {
            await other.ShouldBeProblemAsync(403, "workspace_forbidden");
        }
        using (var missing = await member.GetAsync("/v1/workspaces/no-such-workspace/quota"))
        {
            await missing.ShouldBeProblemAsync(403, "workspace_forbidden"); // the same answer whether or not it exists
        }
        using (var unknown = await admin.GetAsync("/v1/workspaces/no-such-workspace/quota"))
        {
            await unknown.ShouldBeProblemAsync(404, "not_found");
        }
        using (var negative = await admin.PutAsJsonAsync($"/v1/workspaces/{name}/quota", new SetQuotaRequest { MaxVcpus = -1 },
            KennelJson.Default.SetQuotaRequest))
        {
            await negative.ShouldBeProblemAsync(400, "invalid_request", "maxVcpus");
        }
        using (var typo = await admin.PutAsync($"/v1/workspaces/{name}/quota",
            new StringContent("""{"maxRunning": 3}""", System.Text.Encoding.UTF8, "application/json")))
        {
            await typo.ShouldBeProblemAsync(400, "invalid_json", "maxRunning");
        }

        var set = await SetAsync(admin, name, new SetQuotaRequest { MaxRunningSessions = 2, MaxQueuedSessions = 0 });

        set.Limits.ShouldBe(new WorkspaceLimits(2, null, null)); // 0 is no limit
        set.Overridden.ShouldBe(["maxRunningSessions", "maxQueuedSessions"]);
        (await member.GetFromJsonAsync($"/v1/workspaces/{name}/quota", KennelJson.Default.WorkspaceQuota))!.Limits.ShouldBe(set.Limits);
        var reset = await SetAsync(admin, name, new SetQuotaRequest());
        reset.Limits.ShouldBe(new WorkspaceLimits(null, null, Kennel.ControlPlane.Quotas.QuotaOptions.DefaultMaxQueuedSessions));
        reset.Overridden.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_daemon_run_past_the_queued_limit_is_skipped_with_the_reason(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => s with
        {
            EmbeddedWorker = false,
            Quotas = new Kennel.ControlPlane.Quotas.QuotaOptions { Defaults = new WorkspaceLimits(null, null, 2) },
        });
        using var tenant = await server.NewWorkspaceClientAsync();
        await tenant.CreateDaemonAsync(DaemonApi.Webhook("busy", "true", signature: "none") with { Concurrency = "allow" });

        (await tenant.TriggerDaemonAsync("busy")).Outcome.ShouldBe("started");
        (await tenant.TriggerDaemonAsync("busy")).Outcome.ShouldBe("started");
        var third = await tenant.TriggerDaemonAsync("busy");

        third.Outcome.ShouldBe("skipped");
        third.SessionId.ShouldBeNull();
        third.Reason.ShouldNotBeNull().ShouldContain("2 sessions queued");
        (await tenant.GetDaemonAsync("busy")).Totals!.Sessions.ShouldBe(2);
    }

    private static CreateSessionRequest Sized(int vcpus) => new() { Script = "true", Resources = new SessionResources { Vcpus = vcpus } };

    private static async Task<(HttpClient Client, string Workspace)> NewWorkspaceAsync(TestServer server)
    {
        using var admin = server.Client();
        var workspace = $"q-{Guid.NewGuid():N}"[..20];
        var key = await admin.CreateApiKeyAsync(workspace, Scopes.Read, Scopes.Write);
        return (server.Client(key.Key), workspace);
    }

    private static async Task<WorkspaceQuota> SetAsync(HttpClient admin, string workspace, SetQuotaRequest request)
    {
        using var response = await admin.PutAsJsonAsync($"/v1/workspaces/{workspace}/quota", request, KennelJson.Default.SetQuotaRequest);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.WorkspaceQuota))!;
    }
}
