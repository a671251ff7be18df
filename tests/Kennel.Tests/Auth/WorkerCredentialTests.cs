using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Workers;
using Kennel.Testing;

namespace Kennel.Tests.Auth;

/// <summary>API keys and worker credentials are different kinds: neither opens the other's routes.</summary>
public sealed class WorkerCredentialTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task The_worker_protocol_refuses_an_api_key_even_an_admin_one(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        var session = await admin.RunScriptAsync("true");

        using (var poll = await admin.PostAsJsonAsync("/v1/worker/poll", new PollRequest { Held = [] }, KennelJson.Default.PollRequest))
        {
            await poll.ShouldBeProblemAsync(403, "insufficient_scope");
        }
        using (var report = await admin.PostAsJsonAsync($"/v1/worker/sessions/{session.Id}/report",
            new SessionReport { Started = true }, KennelJson.Default.SessionReport))
        {
            await report.ShouldBeProblemAsync(403, "insufficient_scope");
        }

        var after = await admin.GetSessionAsync(session.Id);
        after.Status.ShouldBe(Contracts.Sessions.SessionStatus.Pending);
        after.WorkerId.ShouldBeNull();
        await admin.CancelAsync(session.Id);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Session_and_admin_routes_refuse_a_worker_credential(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        var credential = await EnrollAsync(admin, $"w-{Guid.NewGuid():N}");
        using var worker = server.Client(credential.Credential);

        using (var poll = await worker.PostAsJsonAsync("/v1/worker/poll", new PollRequest { Held = [] }, KennelJson.Default.PollRequest))
        {
            poll.EnsureSuccessStatusCode();
        }
        using (var list = await worker.GetAsync("/v1/sessions"))
        {
            await list.ShouldBeForbiddenAsync(Scopes.Read);
        }
        using (var create = await worker.PostRawAsync("/v1/sessions", """{"script": "true"}"""))
        {
            await create.ShouldBeForbiddenAsync(Scopes.Write);
        }
        using (var keys = await worker.GetAsync("/v1/apikeys"))
        {
            await keys.ShouldBeForbiddenAsync(Scopes.Admin);
        }
        using (var workers = await worker.GetAsync("/v1/workers"))
        {
            await workers.ShouldBeForbiddenAsync(Scopes.Admin);
        }
        using (var token = await worker.PostRawAsync("/v1/workers/tokens", "{}"))
        {
            await token.ShouldBeForbiddenAsync(Scopes.Admin);
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_enrollment_token_works_once_and_a_bad_one_not_at_all(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        using var tokenResponse = await admin.PostRawAsync("/v1/workers/tokens", """{"ttlSeconds": 60}""");
        var token = (await tokenResponse.Content.ReadFromJsonAsync(KennelJson.Default.WorkerToken))!;
        using var anonymous = server.Client(null);
        var capacity = new WorkerCapacity(1, 512, 1);

        using (var first = await anonymous.PostAsJsonAsync("/v1/worker/enroll", new EnrollRequest(token.Token, "once", capacity, null), KennelJson.Default.EnrollRequest))
        {
            ((int)first.StatusCode).ShouldBe(201);
        }
        foreach (var presented in new[] { token.Token, "kwt_garbage", server.AdminKey, $"kwt_{new string('0', 12)}_{new string('0', 40)}" })
        {
            using var again = await anonymous.PostAsJsonAsync("/v1/worker/enroll", new EnrollRequest(presented, "again", capacity, null), KennelJson.Default.EnrollRequest);
            await again.ShouldBeProblemAsync(401, "token_invalid");
        }
        using var badTtl = await admin.PostRawAsync("/v1/workers/tokens", """{"ttlSeconds": 0}""");
        await badTtl.ShouldBeProblemAsync(400, "invalid_request", "ttlSeconds");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Only_an_admin_of_the_default_workspace_can_enroll_workers_which_serve_every_workspace(string store)
    {
        var server = await servers.GetAsync(store);
        using var root = server.Client();
        using var teamAdmin = server.Client((await root.CreateApiKeyAsync("team-b", Scopes.Read, Scopes.Write, Scopes.Admin)).Key);

        using var token = await teamAdmin.PostRawAsync("/v1/workers/tokens", "{}");

        await token.ShouldBeProblemAsync(403, "workspace_forbidden");
    }

    private static async Task<EnrollResponse> EnrollAsync(HttpClient admin, string name)
    {
        using var tokenResponse = await admin.PostRawAsync("/v1/workers/tokens", "{}");
        ((int)tokenResponse.StatusCode).ShouldBe(201);
        var token = (await tokenResponse.Content.ReadFromJsonAsync(KennelJson.Default.WorkerToken))!;
        using var client = new HttpClient { BaseAddress = admin.BaseAddress };
        using var enroll = await client.PostAsJsonAsync("/v1/worker/enroll", new EnrollRequest(token.Token, name, new WorkerCapacity(1, 512, 1), null),
            KennelJson.Default.EnrollRequest);
        ((int)enroll.StatusCode).ShouldBe(201);
        return (await enroll.Content.ReadFromJsonAsync(KennelJson.Default.EnrollResponse))!;
    }
}
