using Kennel.Contracts.Cron;
using Kennel.Testing;

namespace Kennel.SystemTests.ControlPlane;

/// <summary>
/// <c>kill -9</c> of <c>kennel serve</c> while a cron job's run is going, staying down while its next run falls due: after
/// the restart the interrupted run ends in a recorded state, the one that fell due fires once, and nothing fires twice.
/// </summary>
public sealed class CronRestartTests
{
    [Fact]
    public async Task A_job_interrupted_by_a_crash_ends_recorded_and_the_run_due_meanwhile_fires_once()
    {
        await using var model = await ScriptedProvider.StartAsync();
        model.ThenTextAndHang("Looking at the build")
            .ThenEvents(ModelScript.Answer("first run, resumed"))
            .ThenEvents(ModelScript.Answer("second run"))
            .ThenEvents(ModelScript.Answer("a later run"))
            .ThenEvents(ModelScript.Answer("a later run"));
        await using var serve = await ServeProcess.StartAsync(TestStore.Sqlite, new Dictionary<string, string>
        {
            ["OPENAI_BASE_URL"] = new Uri(model.Url, "v1").ToString(),
        });
        using var client = serve.Client();
        var created = await client.AddCronJobAsync(CronApi.AgentTurn("build-check", "Check the build.", new CronSchedule { Kind = "cron", Expr = "* * * * *" })
            with
        { Overlap = "queue" });
        var first = created.Job.State.NextRunAt!.Value;
        var second = first.AddMinutes(1);

        // The first run is going: its model call is streaming and will never finish in this process.
        await client.WaitForCronRunsAsync("?job=build-check", page => page.Items.Count == 1 && page.Items[0].Status == "running"
            && model.Requests.Count == 1);
        await serve.KillHardAsync();
        // Down while the second run falls due.
        var downUntil = second.AddSeconds(2);
        if (downUntil > DateTimeOffset.UtcNow)
        {
            await Task.Delay(downUntil - DateTimeOffset.UtcNow);
        }
        await serve.RestartAsync();

        using var after = serve.Client();
        var page = await after.WaitForCronRunsAsync("?job=build-check", p =>
            p.Items.Count(r => r.ScheduledFor <= second) == 2 && p.Items.Where(r => r.ScheduledFor <= second).All(r => r.Status == "succeeded"));
        var runs = page.Items.Where(r => r.ScheduledFor <= second).OrderBy(r => r.ScheduledFor).ToList();
        runs.Select(r => r.ScheduledFor).ShouldBe([first, second], "each due run fired once");
        (await after.GetRunAsync(runs[0].RunId!)).Answer.ShouldBe("first run, resumed");
        (await after.GetRunAsync(runs[1].RunId!)).Answer.ShouldBe("second run");
        runs[1].StartedAt!.Value.ShouldBeGreaterThanOrEqualTo(runs[0].EndedAt!.Value, "the job queues: its second run waited for the first");
        page.Items.GroupBy(r => r.ScheduledFor).ShouldAllBe(group => group.Count() == 1);
    }
}
