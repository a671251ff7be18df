using Kennel.Contracts.Servers;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Servers;
using Kennel.Testing;

namespace Kennel.Tests.Servers;

/// <summary>
/// add-server from a bare login to a ready worker that runs a session, and delete-server with a session running. The
/// sshd's namespace has its own <c>/etc</c>, <c>/usr/local</c>, <c>/var/lib</c> and <c>/var/log</c>, so the bootstrap
/// installs for real without touching this machine. The uploaded "build" is a launcher of this test run's kennel.dll (a
/// single-file publish would take minutes to build here); its upload, hash check and start are the real ones.
/// </summary>
public sealed class ServerToReadyTests(TestSshd sshd) : IClassFixture<TestSshd>
{
    [Fact]
    public async Task A_machine_becomes_a_ready_worker_that_runs_a_session_and_delete_waits_for_its_sessions()
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

            using (var busy = await admin.DeleteAsync($"/v1/servers/{added.Id}"))
            {
                await busy.ShouldBeProblemAsync(409, "server_busy");
            }
            await admin.CancelAsync(session.Id);
            var cancelled = await admin.WaitAsync(session.Id);
            cancelled.Status.ShouldBe(SessionStatus.Cancelled);
            cancelled.Stdout.ShouldBe("hello from the new worker\n");

            using (var deleted = await admin.DeleteAsync($"/v1/servers/{added.Id}"))
            {
                ((int)deleted.StatusCode).ShouldBe(200);
            }
            (await admin.ListServersAsync()).Items.ShouldBeEmpty();
            using var workers = await admin.GetAsync("/v1/workers");
            (await workers.Content.ReadAsStringAsync()).ShouldNotContain(ready.Worker.Id);
        }
        finally
        {
            File.Delete(launcher);
        }
    }
}
