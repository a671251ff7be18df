using Kennel.Contracts.Servers;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Servers;
using System.Net.Http.Json;
using Kennel.Testing;

namespace Kennel.Tests.Servers;

/// <summary>
/// add-server from a bare login to a ready worker that runs a session, and delete-server draining it with a session running. The
/// sshd's namespace has its own <c>/etc</c>, <c>/usr/local</c>, <c>/var/lib</c> and <c>/var/log</c>, so the bootstrap
/// installs for real without touching this machine. The uploaded "build" is a launcher of this test run's kennel.dll (a
/// single-file publish would take minutes to build here); its upload, hash check and start are the real ones.
/// </summary>
public sealed class ServerToReadyTests(TestSshd sshd) : IClassFixture<TestSshd>
{
    [Fact]
    public async Task A_machine_becomes_a_ready_worker_that_runs_a_session_and_delete_drains_it_and_stops_its_service()
    {
        var launcher = Path.Combine(Path.GetTempPath(), $"kennel-launcher-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(launcher, $"#!/bin/sh\nexec dotnet {KennelProcess.KennelDll} \"$@\"\n");
        try
        {
            await using var server = await TestServer.StartAsync(TestStore.Sqlite, s => s with
            {
                Listen = $"{sshd.HostSideAddress}:0",
                EmbeddedWorker = false,
                Servers = new ServerOptions
                {
                    WorkerBinaries = new Dictionary<string, string> { ["x86_64"] = launcher, ["aarch64"] = launcher },
                    ReadyTimeout = TimeSpan.FromSeconds(90),
                },
            });
            using var admin = server.Client();

            var added = await admin.AddServerAsync(new AddServerRequest
            {
                Name = "netns-box",
                Address = sshd.Address,
                Password = TestSshd.RootPassword,
                KeepCredential = true,
                ControlPlaneUrl = server.Url.ToString(),
            });
            var ready = await admin.WaitForServerAsync(added.Id, TimeSpan.FromSeconds(150));
            var steps = (await admin.ServerStepsAsync(added.Id)).Items;

            ready.Status.ShouldBe(ServerStatuses.Ready, string.Join('\n', steps.Select(s => $"{s.Status}: {s.Message}")));
            steps.Select(s => s.Status).Distinct().ShouldBe(
                [ServerStatuses.Provisioning, ServerStatuses.Connecting, ServerStatuses.Bootstrapping, ServerStatuses.Enrolling, ServerStatuses.Ready]);
            steps.ShouldContain(s => s.Message.Contains("SHA-256", StringComparison.Ordinal) && s.Message.Contains("checked", StringComparison.Ordinal));
            steps.ShouldContain(s => s.Message.Contains("No systemd", StringComparison.Ordinal));
            ready.Worker!.Name.ShouldBe("netns-box");
            ready.Worker.Health.ShouldBe("healthy");

            var session = await admin.CreateSessionAsync(new CreateSessionRequest { Script = "echo hello from the new worker; sleep 60" });
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await admin.GetSessionAsync(session.Id)).Status != SessionStatus.Running && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
            var running = await admin.GetSessionAsync(session.Id);
            running.Status.ShouldBe(SessionStatus.Running, running.Error?.Message);
            running.WorkerId.ShouldBe(ready.Worker.Id);

            (await sshd.ProcessesAsync()).ShouldContain(p => p.Contains("--token-file", StringComparison.Ordinal));

            using var draining = await admin.DeleteAsync($"/v1/servers/{added.Id}?graceSeconds=1");
            ((int)draining.StatusCode).ShouldBe(202);
            var drained = (await draining.Content.ReadFromJsonAsync(Kennel.Contracts.KennelJson.Default.Server))!;
            drained.Status.ShouldBe(ServerStatuses.Draining);
            drained.LastStep!.Message.ShouldContain("takes no new sessions");
            drained.Worker!.DrainingSince.ShouldNotBeNull();
            // Queued while the only worker drains: it is not placed there.
            var queued = await admin.CreateSessionAsync(new CreateSessionRequest { Script = "echo never" });

            (await admin.WaitForServerGoneAsync(added.Id, TimeSpan.FromSeconds(120))).ShouldBeTrue();
            var cancelled = await admin.WaitAsync(session.Id);
            cancelled.Status.ShouldBe(SessionStatus.Cancelled);
            cancelled.Error!.Code.ShouldBe(ServerService.ServerDeleted);
            cancelled.Stdout.ShouldBe("hello from the new worker\n");
            var waiting = await admin.GetSessionAsync(queued.Id);
            waiting.Status.ShouldBe(SessionStatus.Pending);
            waiting.WorkerId.ShouldBeNull();
            await admin.CancelAsync(queued.Id);
            (await admin.ListServersAsync()).Items.ShouldBeEmpty();
            using var workers = await admin.GetAsync("/v1/workers");
            (await workers.Content.ReadAsStringAsync()).ShouldNotContain(ready.Worker.Id);
            // The kept password let delete-server stop the supervising script and the worker on the machine.
            var stopDeadline = DateTime.UtcNow.AddSeconds(30);
            while ((await sshd.ProcessesAsync()).Any(p => p.Contains("--token-file", StringComparison.Ordinal)) && DateTime.UtcNow < stopDeadline)
            {
                await Task.Delay(200);
            }
            (await sshd.ProcessesAsync()).ShouldNotContain(p => p.Contains("--token-file", StringComparison.Ordinal) || p.Contains("run-worker.sh", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(launcher);
        }
    }
}
