using Kennel.Contracts.Conversations;
using Kennel.ControlPlane.Runs;

namespace Kennel.Tests.Units;

/// <summary>
/// Whoever follows a run executing here sees its progress from the start, however late they subscribe, and following
/// many runs leaves nothing behind.
/// </summary>
public sealed class LiveRunsTests
{
    private readonly LiveRuns live = new();

    [Fact]
    public async Task A_subscriber_that_comes_after_the_first_progress_still_gets_it_then_what_follows_and_the_end()
    {
        using var stopper = new CancellationTokenSource();
        live.Started("run_a", stopper);
        live.Publish(Text("run_a", "Hel"));
        live.Publish(new RunEvent { Kind = RunEventKinds.ToolStart, RunId = "run_a", CallId = "call_1", Tool = "exec" });

        using var late = live.Subscribe("run_a");
        live.Publish(Text("run_a", "lo"));
        live.Publish(Text("run_b", "another run's text"));
        live.Ended("run_a");

        var seen = await ReadAllAsync(late);
        seen.Select(e => e.Kind + ":" + (e.Text ?? e.Tool)).ShouldBe(["text:Hel", "tool_start:exec", "text:lo"]);
    }

    [Fact]
    public async Task A_subscriber_that_comes_before_the_run_starts_here_gets_all_of_it()
    {
        using var early = live.Subscribe("run_a");
        using var stopper = new CancellationTokenSource();
        live.Started("run_a", stopper);
        live.Publish(Text("run_a", "one"));
        live.Ended("run_a");

        (await ReadAllAsync(early)).Select(e => e.Text).ShouldBe(["one"]);
    }

    [Fact]
    public void Only_the_newest_progress_is_kept_for_a_late_subscriber()
    {
        using var stopper = new CancellationTokenSource();
        live.Started("run_a", stopper);
        for (var i = 0; i < LiveRuns.Kept + 10; i++)
        {
            live.Publish(Text("run_a", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        using var late = live.Subscribe("run_a");
        late.Reader.TryRead(out var first).ShouldBeTrue();
        first!.Text.ShouldBe("10");
        late.Reader.Count.ShouldBe(LiveRuns.Kept - 1);
    }

    [Fact]
    public void Following_runs_that_ended_or_never_ran_here_leaves_nothing_behind()
    {
        for (var i = 0; i < 100; i++)
        {
            var id = $"run_{i}";
            using var stopper = new CancellationTokenSource();
            live.Started(id, stopper);
            live.Publish(Text(id, "x"));
            using (live.Subscribe(id))
            {
            }
            live.Ended(id);
            using (live.Subscribe(id)) // after the end, as a follower that came late does
            {
            }
            using (live.Subscribe($"elsewhere_{i}")) // executed by another replica
            {
            }
            live.Publish(Text(id, "after the end"));
        }
        live.Held.ShouldBe(0);
        live.Executing.ShouldBeEmpty();
    }

    private static RunEvent Text(string runId, string text) => new() { Kind = RunEventKinds.Text, RunId = runId, Text = text };

    private static async Task<List<RunEvent>> ReadAllAsync(LiveRuns.Subscription subscription)
    {
        List<RunEvent> seen = [];
        await foreach (var progress in subscription.Reader.ReadAllAsync().WithCancellation(CancellationToken.None))
        {
            seen.Add(progress);
        }
        return seen;
    }
}
