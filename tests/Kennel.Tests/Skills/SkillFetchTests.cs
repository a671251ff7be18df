using System.Net;
using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Conversations;
using Kennel.Contracts.Sessions;
using Kennel.Contracts.Workers;
using Kennel.Testing;
using Kennel.Worker;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kennel.Tests.Skills;

/// <summary>
/// The worker side of skills: <c>GET /v1/worker/skills/{sha256}</c> serves an archive only to a worker holding a live
/// session that mounts it, and a worker enrolled on its own (as <c>kennel worker</c> runs) mounts skills like the embedded one.
/// </summary>
public sealed class SkillFetchTests
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_worker_gets_an_archive_only_while_it_holds_a_session_that_mounts_it(string store)
    {
        await using var model = await ScriptedProvider.StartAsync();
        await using var server = await SkillWorkers.StartServerAsync(store, model);
        var (client, workspace) = await InstalledSkills.NewWorkspaceAsync(server);
        var (other, otherWorkspace) = await InstalledSkills.NewWorkspaceAsync(server);
        using var a = client;
        using var b = other;
        var archive = InstalledSkills.WithScript("fetched", "fetched-ran");
        var sha256 = await InstalledSkills.InstallAsync(server, workspace, "fetched", archive);
        var otherSha256 = await InstalledSkills.InstallAsync(server, otherWorkspace, "theirs", InstalledSkills.WithScript("theirs", "theirs-ran"));
        using var admin = server.Client();
        using var worker = await ProtocolWorker.EnrollAsync(admin, new WorkerCapacity(4, 4096, 4));
        using var bystander = await ProtocolWorker.EnrollAsync(admin, new WorkerCapacity(4, 4096, 4));
        await ShouldBeNotFoundAsync(await worker.FetchSkillAsync(sha256));

        model.ThenEvents(ModelScript.Exec("call_1", "/skills/fetched/scripts/x.sh")).ThenEvents(ModelScript.Answer("Done."));
        using var sent = await client.PostAsJsonAsync("/v1/conversations/main/messages?waitMs=0", new SendMessageRequest { Message = "Run it." },
            KennelJson.Default.SendMessageRequest);
        var run = (await sent.Content.ReadFromJsonAsync(KennelJson.Default.Run))!;
        var assignment = await SkillWorkers.ClaimAsync(worker.PollAsync);

        assignment.Skills.ShouldBe([new SessionSkill("fetched", sha256)]);
        using (var fetched = await worker.FetchSkillAsync(sha256))
        {
            fetched.StatusCode.ShouldBe(HttpStatusCode.OK);
            fetched.Content.Headers.ContentType!.MediaType.ShouldBe("application/gzip");
            (await fetched.Content.ReadAsByteArrayAsync()).ShouldBe(archive);
        }
        await ShouldBeNotFoundAsync(await worker.FetchSkillAsync(otherSha256));
        await ShouldBeNotFoundAsync(await bystander.FetchSkillAsync(sha256));
        await ShouldBeNotFoundAsync(await worker.FetchSkillAsync(new string('0', 64)));
        await (await worker.FetchSkillAsync(sha256.ToUpperInvariant())).ShouldBeProblemAsync(400, "invalid_request", "sha256");
        await (await worker.FetchSkillAsync("not-a-hash")).ShouldBeProblemAsync(400, "invalid_request", "sha256");
        using (var anonymous = server.Client(apiKey: null))
        {
            (await anonymous.GetAsync($"/v1/worker/skills/{sha256}")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        (await client.GetAsync($"/v1/worker/skills/{sha256}")).StatusCode.ShouldBe(HttpStatusCode.Forbidden, "an API key is not a worker credential");

        await worker.FinishAsync(assignment.SessionId);
        await ShouldBeNotFoundAsync(await worker.FetchSkillAsync(sha256));
        (await client.GetRunAsync(run.Id, waitMs: 60_000)).Status.ShouldBe(RunStatus.Succeeded);
    }

    [Fact]
    public async Task A_worker_enrolled_on_its_own_mounts_the_skills_too()
    {
        await using var model = await ScriptedProvider.StartAsync();
        await using var server = await SkillWorkers.StartServerAsync(TestStore.Sqlite, model);
        var (client, workspace) = await InstalledSkills.NewWorkspaceAsync(server);
        using var _ = client;
        await InstalledSkills.InstallAsync(server, workspace, "remote-skill", InstalledSkills.WithScript("remote-skill", "remote-ran"));
        var dataDir = Directory.CreateTempSubdirectory("kennel-test-worker-").FullName;
        var capacity = new WorkerCapacity(4, 4096, 4);
        var enrolled = await SkillWorkers.EnrollAsync(server, capacity);
        using var http = enrolled.Http;
        await using var sandbox = DefaultSandbox.Create(dataDir, SandboxUidRange.Default, null, NullLoggerFactory.Instance);
        var agent = new WorkerAgent(new ControlPlaneClient(http), sandbox,
            new WorkerAgentOptions { Capacity = capacity, SkillDirectory = DefaultSandbox.SkillDirectory(dataDir, null) }, TimeProvider.System,
            NullLogger<WorkerAgent>.Instance);
        using var stop = new CancellationTokenSource();
        var running = agent.RunAsync(stop.Token);
        try
        {
            model.ThenEvents(ModelScript.Exec("call_1", "cat /skills/remote-skill/SKILL.md; /skills/remote-skill/scripts/x.sh")).ThenEvents(ModelScript.Answer("Done."));
            var run = await client.SendAsync("main", "Run it.");

            run.Status.ShouldBe(RunStatus.Succeeded);
            var call = (await client.HistoryAsync(run.ConversationId)).Items.Single(entry => entry.Kind == "tool_call");
            var session = (await client.GetFromJsonAsync($"/v1/sessions/{call.SessionId}", KennelJson.Default.Session))!;
            session.Status.ShouldBe(SessionStatus.Succeeded, session.Stderr);
            session.WorkerId.ShouldBe(enrolled.WorkerId);
            session.Stdout.ShouldContain("name: remote-skill");
            session.Stdout.ShouldEndWith("remote-ran\n");
        }
        finally
        {
            await stop.CancelAsync();
            await running;
            Directory.Delete(dataDir, recursive: true);
            Directory.Delete(DefaultSandbox.SkillDirectory(dataDir, null), recursive: true);
        }
    }

    private static async Task ShouldBeNotFoundAsync(HttpResponseMessage response)
    {
        using (response)
        {
            await response.ShouldBeProblemAsync(404, "not_found");
        }
    }
}
