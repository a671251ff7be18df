using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.SystemTests.ControlPlane;

/// <summary>
/// A control plane that dies (kill -9) or is stopped (SIGTERM) with sessions running and queued: after a restart on the
/// same data dir or database, every session reaches the terminal state it should, and nothing is lost.
/// </summary>
public sealed class RestartTests
{
    private static readonly Dictionary<string, string> TwoSlots = new() { ["KENNEL_WORKER_SLOTS"] = "2" };

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task After_kill_9_running_sessions_fail_as_worker_lost_and_queued_ones_run(string store)
    {
        await using var serve = await ServeProcess.StartAsync(store, TwoSlots);
        var marker = Sessions.NewMarker();
        using var client = serve.Client();
        var running = new List<Session>();
        for (var i = 0; i < 2; i++)
        {
            running.Add(await client.CreateSessionAsync(Sessions.Marked("sleep 30; echo never", marker)));
        }
        foreach (var session in running)
        {
            await client.UntilStatusAsync(session.Id, SessionStatus.Running);
        }
        var queued = new List<Session>();
        for (var i = 0; i < 3; i++)
        {
            queued.Add(await client.CreateSessionAsync(new CreateSessionRequest { Script = $"echo queued-{i}" }));
        }
        foreach (var session in queued)
        {
            (await client.GetSessionAsync(session.Id)).Status.ShouldBe(SessionStatus.Pending);
        }
        SandboxProcesses.WithMarker(marker).ShouldNotBeEmpty("the running sessions' sandboxes should be visible on the host");

        await serve.KillHardAsync();

        (await SandboxProcesses.SurvivorsAsync(marker, TimeSpan.FromSeconds(5))).ShouldBeEmpty("sandboxes outlived their control plane");
        await serve.RestartAsync();
        using var after = serve.Client();
        foreach (var session in running)
        {
            var ended = await after.WaitAsync(session.Id, TimeSpan.FromSeconds(30));
            ended.Status.ShouldBe(SessionStatus.Failed);
            ended.Error.ShouldNotBeNull().Code.ShouldBe("worker_lost");
            ended.Stdout.ShouldBe("");
            ended.EndedAt.ShouldNotBeNull();
        }
        for (var i = 0; i < queued.Count; i++)
        {
            var ended = await after.WaitAsync(queued[i].Id, TimeSpan.FromSeconds(30));
            ended.Status.ShouldBe(SessionStatus.Succeeded);
            ended.Stdout.ShouldBe($"queued-{i}\n");
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task After_a_graceful_stop_and_restart_no_session_is_lost(string store)
    {
        await using var serve = await ServeProcess.StartAsync(store, new Dictionary<string, string> { ["KENNEL_WORKER_SLOTS"] = "1" });
        using var client = serve.Client();
        var finished = await client.WaitAsync((await client.CreateSessionAsync(new CreateSessionRequest { Script = "echo before" })).Id);
        finished.Status.ShouldBe(SessionStatus.Succeeded);
        var marker = Sessions.NewMarker();
        var running = await client.CreateSessionAsync(Sessions.Marked("sleep 30", marker));
        await client.UntilStatusAsync(running.Id, SessionStatus.Running);
        var queued = await client.CreateSessionAsync(new CreateSessionRequest { Script = "echo after" });

        await serve.TerminateAsync();

        (await SandboxProcesses.SurvivorsAsync(marker, TimeSpan.FromSeconds(5))).ShouldBeEmpty("a stopped control plane left its sandboxes running");
        await serve.RestartAsync();
        using var after = serve.Client();
        var kept = await after.GetSessionAsync(finished.Id);
        kept.Status.ShouldBe(SessionStatus.Succeeded);
        kept.Stdout.ShouldBe("before\n");
        // The stopping worker reported the session it had to kill, so it is settled before anything else runs.
        var interrupted = await after.GetSessionAsync(running.Id);
        interrupted.Status.ShouldBe(SessionStatus.Failed);
        interrupted.Error.ShouldNotBeNull().Code.ShouldBe("worker_shutdown");
        var ran = await after.WaitAsync(queued.Id, TimeSpan.FromSeconds(30));
        ran.Status.ShouldBe(SessionStatus.Succeeded);
        ran.Stdout.ShouldBe("after\n");
        var page = await after.GetFromJsonAsync($"/v1/sessions?limit=10", KennelJson.Default.SessionPage);
        page!.Items.Select(s => s.Id).ShouldBe([queued.Id, running.Id, finished.Id]);
    }
}
