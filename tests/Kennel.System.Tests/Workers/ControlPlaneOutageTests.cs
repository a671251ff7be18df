using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.SystemTests.Workers;

/// <summary>
/// A remote worker outlives a crash of its control plane: the session it runs ends while the control plane is down, the
/// worker keeps retrying its report, and once the control plane is back the session ends as it really did. The user's
/// <c>kennel session run</c> rides the outage out too.
/// </summary>
public sealed class ControlPlaneOutageTests
{
    [Fact]
    public async Task A_session_that_ends_while_the_control_plane_is_down_is_reported_when_it_returns()
    {
        await using var serve = await ServeProcess.StartAsync(TestStore.Sqlite, new Dictionary<string, string> { ["KENNEL_EMBEDDED_WORKER"] = "false" });
        await using var worker = await WorkerProcess.EnrollAsync(serve);
        var follow = Cli.RunAsync(serve.CliEnvironment(), "session", "run", "--script", "sleep 3; echo done");
        var id = await RunningSessionAsync(serve);

        await serve.KillHardAsync();
        // Restart only once the workload has ended and the worker failed to report it, so the report must be retried.
        await worker.Process.WaitForOutputAsync($"Report for session {id} failed", TimeSpan.FromSeconds(30));
        await serve.RestartAsync();

        var cli = await follow;
        cli.ExitCode.ShouldBe(0, cli.ToString());
        cli.Stdout.ShouldBe("done\n");
        using var client = serve.Client();
        var session = await client.WaitAsync(id, TimeSpan.FromSeconds(30));
        session.Status.ShouldBe(SessionStatus.Succeeded, $"{session.Error?.Code}: {session.Error?.Message}");
        session.Stdout.ShouldBe("done\n");
        session.WorkerId.ShouldBe(worker.Id);
    }

    private static async Task<string> RunningSessionAsync(ServeProcess serve)
    {
        using var client = serve.Client();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var page = await client.GetFromJsonAsync("/v1/sessions?status=running", KennelJson.Default.SessionPage);
            if (page!.Items.Count > 0)
            {
                return page.Items.Single().Id;
            }
            await Task.Delay(50);
        }
        throw new ShouldAssertException("kennel session run never got a session running.");
    }
}
