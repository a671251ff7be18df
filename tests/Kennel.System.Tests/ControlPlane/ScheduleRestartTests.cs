using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.SystemTests.ControlPlane;

/// <summary>
/// A control plane killed (kill -9) just as a minute's scheduled runs fall due: after a restart on the same store, every
/// schedule has fired that minute exactly once, whether its run was fired before the kill or is fired after the restart.
/// </summary>
public sealed class ScheduleRestartTests
{
    private const int Daemons = 150;

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_kill_9_as_runs_fall_due_neither_loses_nor_repeats_one(string store)
    {
        // No worker: the runs' sessions stay queued, so only the scheduler is under test.
        await using var serve = await ServeProcess.StartAsync(store, new Dictionary<string, string> { ["KENNEL_EMBEDDED_WORKER"] = "false" });
        using var client = serve.Client();
        var now = DateTimeOffset.UtcNow;
        var due = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddMinutes(1);
        if (due - now < TimeSpan.FromSeconds(20))
        {
            due = due.AddMinutes(1);
        }
        var prefix = $"restart-{Guid.NewGuid():N}"[..16];
        var names = Enumerable.Range(0, Daemons).Select(i => $"{prefix}-{i}").ToList();
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (name, _) =>
            await client.CreateDaemonAsync(DaemonApi.Scheduled(name, "true", $"{due.Minute} {due.Hour} * * *")));

        // Killed as the scheduler starts firing the burst: some runs may be in, the rest not yet.
        await Task.Delay(due - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(30));
        await serve.KillHardAsync();
        await serve.RestartAsync();

        using var after = serve.Client();
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        List<Session> fired;
        do
        {
            await Task.Delay(500);
            fired = [.. (await AllSessionsAsync(after)).Where(s => s.Daemon?.StartsWith(prefix, StringComparison.Ordinal) == true)];
        }
        while (fired.Count < Daemons && DateTimeOffset.UtcNow < deadline);

        fired.ShouldAllBe(s => s.ScheduledFor == due && s.Trigger == "schedule");
        fired.GroupBy(s => s.Daemon).Where(g => g.Count() > 1).Select(g => g.Key).ShouldBeEmpty("a run fired twice");
        names.Except(fired.Select(s => s.Daemon!)).ShouldBeEmpty("a run was lost");
    }

    private static async Task<List<Session>> AllSessionsAsync(HttpClient client)
    {
        var all = new List<Session>();
        string? cursor = null;
        do
        {
            var page = (await client.GetFromJsonAsync($"/v1/sessions?limit=200{(cursor is null ? "" : $"&cursor={cursor}")}", KennelJson.Default.SessionPage))!;
            all.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return all;
    }
}
