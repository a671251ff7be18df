using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.SystemTests.Workers;

/// <summary>
/// <c>kennel worker</c> on its own, enrolled with a token from <c>kennel worker token create</c>: it runs sessions,
/// shows in the fleet, keeps its identity across restarts and claims only what fits. The tests share one control plane
/// and run one after another, so at most one worker is alive at a time.
/// </summary>
public sealed class RemoteWorkerTests(RemoteControlPlaneFixture fixture) : IClassFixture<RemoteControlPlaneFixture>
{
    private ServeProcess Serve => fixture.Serve;

    [Fact]
    public async Task An_enrolled_worker_runs_sessions_and_is_listed_healthy()
    {
        await using var worker = await WorkerProcess.EnrollAsync(Serve, "--slots", "3", "--vcpus", "6", "--memory-mb", "3072");

        var run = await Serve.CliAsync("session", "run", "--json", "--", "echo", "remote");

        run.ExitCode.ShouldBe(0, run.ToString());
        var session = JsonSerializer.Deserialize(run.Stdout, KennelJson.Default.Session)!;
        session.Stdout.ShouldBe("remote\n");
        session.WorkerId.ShouldBe(worker.Id);
        var fleet = JsonSerializer.Deserialize((await Serve.CliSucceedsAsync("worker", "list", "--json")).Stdout, KennelJson.Default.IReadOnlyListWorker)!;
        var listed = fleet.Single(w => w.Id == worker.Id);
        listed.Health.ShouldBe("healthy");
        listed.Kind.ShouldBe("remote");
        listed.Capacity.Slots.ShouldBe(3);
        listed.Capacity.Vcpus.ShouldBe(6);
        listed.Capacity.MemoryMb.ShouldBe(3072);
        (await Serve.CliSucceedsAsync("worker", "list")).Stdout.ShouldContain(worker.Id);
    }

    [Fact]
    public async Task An_enrollment_token_works_once()
    {
        var token = (await Serve.CliSucceedsAsync("worker", "token", "create")).Stdout.Trim();
        token.ShouldStartWith("kwt_");
        await (await WorkerProcess.EnrollWithTokenAsync(Serve, token)).DisposeAsync();
        var second = Directory.CreateTempSubdirectory("kennel-system-worker-");
        try
        {
            var again = await Cli.RunAsync(new Dictionary<string, string?>(),
                "worker", "--url", Serve.Url.ToString(), "--token", token, "--data-dir", second.FullName);

            again.ExitCode.ShouldBe(1, again.ToString());
            again.Stderr.ShouldContain("Enrollment failed");
            again.Stderr.ShouldContain("already used");
            File.Exists(Path.Combine(second.FullName, "worker.json")).ShouldBeFalse();
        }
        finally
        {
            second.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task An_expired_enrollment_token_is_refused()
    {
        var created = JsonSerializer.Deserialize((await Serve.CliSucceedsAsync("worker", "token", "create", "--ttl", "1s", "--json")).Stdout,
            KennelJson.Default.WorkerToken)!;
        await Task.Delay(TimeSpan.FromSeconds(2));
        var dataDir = Directory.CreateTempSubdirectory("kennel-system-worker-");
        try
        {
            var refused = await Cli.RunAsync(new Dictionary<string, string?>(),
                "worker", "--url", Serve.Url.ToString(), "--token", created.Token, "--data-dir", dataDir.FullName);

            refused.ExitCode.ShouldBe(1, refused.ToString());
            refused.Stderr.ShouldContain("Enrollment failed");
            refused.Stderr.ShouldContain("expired");
        }
        finally
        {
            dataDir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_restarted_worker_comes_back_as_itself_without_a_token()
    {
        await using var worker = await WorkerProcess.EnrollAsync(Serve);
        var id = worker.Id;
        File.GetUnixFileMode(worker.IdentityFile).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.ReadAllText(worker.IdentityFile).ShouldNotContain("kwt_", Case.Sensitive, "the spent enrollment token is not kept");
        await worker.TerminateAsync();

        await using var resumed = await WorkerProcess.ResumeAsync(worker.DataDir);

        resumed.Process.Stdout.ShouldContain(id);
        using var client = Serve.Client();
        var session = await client.WaitAsync((await client.RunScriptAsync("echo back")).Id);
        session.Status.ShouldBe(SessionStatus.Succeeded);
        session.WorkerId.ShouldBe(id);
    }

    [Fact]
    public async Task A_worker_without_saved_identity_or_token_says_how_to_enroll()
    {
        var dataDir = Directory.CreateTempSubdirectory("kennel-system-worker-");
        try
        {
            var result = await Cli.RunAsync(new Dictionary<string, string?>(), "worker", "--url", Serve.Url.ToString(), "--data-dir", dataDir.FullName);

            result.ExitCode.ShouldBe(2, result.ToString());
            result.Stderr.ShouldContain("--token");
        }
        finally
        {
            dataDir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_one_slot_worker_runs_one_session_at_a_time()
    {
        await using var worker = await WorkerProcess.EnrollAsync(Serve, "--slots", "1");
        using var client = Serve.Client();
        var first = await client.RunScriptAsync("sleep 2");
        var second = await client.RunScriptAsync("sleep 2");

        await client.UntilStatusAsync(first.Id, SessionStatus.Running);
        while ((await client.GetSessionAsync(first.Id)).Status == SessionStatus.Running)
        {
            (await client.GetSessionAsync(second.Id)).Status.ShouldBe(SessionStatus.Pending);
            await Task.Delay(200);
        }

        var a = await client.WaitAsync(first.Id);
        var b = await client.WaitAsync(second.Id);
        a.Status.ShouldBe(SessionStatus.Succeeded);
        b.Status.ShouldBe(SessionStatus.Succeeded);
        b.WorkerId.ShouldBe(worker.Id);
        b.StartedAt!.Value.ShouldBeGreaterThanOrEqualTo(a.EndedAt!.Value);
    }

    [Fact]
    public async Task A_session_bigger_than_the_worker_waits_without_failing()
    {
        await using var worker = await WorkerProcess.EnrollAsync(Serve, "--memory-mb", "256");
        using var client = Serve.Client();
        var big = await client.CreateSessionAsync(new CreateSessionRequest { Script = "echo big", Resources = new SessionResources { MemoryMb = 1024 } });

        var small = await client.WaitAsync((await client.CreateSessionAsync(
            new CreateSessionRequest { Script = "echo small", Resources = new SessionResources { MemoryMb = 128 } })).Id);
        small.Status.ShouldBe(SessionStatus.Succeeded);
        small.WorkerId.ShouldBe(worker.Id);
        await Task.Delay(TimeSpan.FromSeconds(2)); // several polls of a live worker

        var waiting = await client.GetSessionAsync(big.Id);
        waiting.Status.ShouldBe(SessionStatus.Pending);
        waiting.Error.ShouldBeNull();
        waiting.WorkerId.ShouldBeNull();
        (await client.CancelAsync(big.Id)).Status.ShouldBe(SessionStatus.Cancelled);
    }
}
