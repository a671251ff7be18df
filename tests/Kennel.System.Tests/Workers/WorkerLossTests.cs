using System.Diagnostics;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.SystemTests.Workers;

/// <summary>With a 2 s lease, a worker that dies is noticed quickly, and one that lives keeps what it runs.</summary>
public sealed class WorkerLossTests
{
    private static readonly Dictionary<string, string> ShortLease = new()
    {
        ["KENNEL_EMBEDDED_WORKER"] = "false",
        ["KENNEL_LEASE_TTL_SECONDS"] = "2",
    };

    [Fact]
    public async Task A_killed_worker_s_session_fails_as_worker_lost_and_the_queue_waits_for_a_new_worker()
    {
        await using var serve = await ServeProcess.StartAsync(TestStore.Sqlite, ShortLease);
        using var client = serve.Client();
        var marker = Sessions.NewMarker();
        await using var doomed = await WorkerProcess.EnrollAsync(serve);
        var running = await client.CreateSessionAsync(Sessions.Marked("sleep 30", marker));
        await client.UntilStatusAsync(running.Id, SessionStatus.Running);

        await doomed.KillHardAsync();
        var clock = Stopwatch.StartNew();

        var lost = await client.WaitAsync(running.Id, TimeSpan.FromSeconds(30));
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15));
        lost.Status.ShouldBe(SessionStatus.Failed);
        lost.Error.ShouldNotBeNull().Code.ShouldBe("worker_lost");
        (await SandboxProcesses.SurvivorsAsync(marker, TimeSpan.FromSeconds(5))).ShouldBeEmpty("the sandbox outlived its worker");
        var fleet = JsonSerializer.Deserialize((await serve.CliSucceedsAsync("worker", "list", "--json")).Stdout, KennelJson.Default.IReadOnlyListWorker)!;
        fleet.Single(w => w.Id == doomed.Id).Health.ShouldBe("lost");

        var queued = await client.RunScriptAsync("echo after");
        await Task.Delay(TimeSpan.FromSeconds(1));
        (await client.GetSessionAsync(queued.Id)).Status.ShouldBe(SessionStatus.Pending);
        await using var replacement = await WorkerProcess.EnrollAsync(serve);
        var ran = await client.WaitAsync(queued.Id);
        ran.Status.ShouldBe(SessionStatus.Succeeded);
        ran.Stdout.ShouldBe("after\n");
        ran.WorkerId.ShouldBe(replacement.Id);
    }

    [Fact]
    public async Task A_live_worker_keeps_a_session_that_outlasts_the_lease_many_times()
    {
        await using var serve = await ServeProcess.StartAsync(TestStore.Sqlite, ShortLease);
        using var client = serve.Client();
        await using var worker = await WorkerProcess.EnrollAsync(serve);

        var session = await client.WaitAsync((await client.RunScriptAsync("sleep 7; echo survived")).Id);

        session.Status.ShouldBe(SessionStatus.Succeeded, $"{session.Error?.Code}: {session.Error?.Message}");
        session.Stdout.ShouldBe("survived\n");
    }
}
