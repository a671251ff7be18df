using System.Data.Common;
using Dapper;
using Kennel.ControlPlane.Scheduling;
using Kennel.Testing;

namespace Kennel.Tests.Scheduling;

/// <summary>
/// The scheduler on a manual clock and a real store: runs fire at their time and not before, across DST changes,
/// exactly once whatever the number of schedulers or restarts, and missed runs catch up once by policy.
/// </summary>
public sealed class SchedulerTests
{
    private static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_run_fires_at_its_time_and_not_before(string store)
    {
        await using var fixture = await SchedulerFixture.CreateAsync(store, Utc("2026-11-21T10:02:00Z"));
        await fixture.AddAsync("every-5", "*/5 * * * *");
        var scheduler = fixture.NewScheduler();
        (await fixture.NextRunAsync("every-5")).ShouldBe(Utc("2026-11-21T10:05:00Z"));

        fixture.Clock.SetUtcNow(Utc("2026-11-21T10:04:59.999Z"));
        (await scheduler.RunDueAsync(CancellationToken.None)).ShouldBe(0);
        fixture.Committed.ShouldBeEmpty();

        fixture.Clock.SetUtcNow(Utc("2026-11-21T10:05:00Z"));
        (await scheduler.RunDueAsync(CancellationToken.None)).ShouldBe(1);
        (await scheduler.RunDueAsync(CancellationToken.None)).ShouldBe(0);

        var run = fixture.Committed.ShouldHaveSingleItem();
        run.ScheduledFor.ShouldBe(Utc("2026-11-21T10:05:00Z"));
        run.CatchUp.ShouldBeFalse();
        (await fixture.NextRunAsync("every-5")).ShouldBe(Utc("2026-11-21T10:10:00Z"));
        (await fixture.StoredRunsAsync()).ShouldBe([("every-5", Utc("2026-11-21T10:05:00Z").ToUnixTimeMilliseconds(), 0L, "ran every-5")]);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Saving_a_schedule_again_keeps_a_due_run_and_a_new_expression_moves_it(string store)
    {
        await using var fixture = await SchedulerFixture.CreateAsync(store, Utc("2026-11-21T10:02:00Z"));
        await fixture.AddAsync("edited", "*/5 * * * *");
        fixture.Clock.SetUtcNow(Utc("2026-11-21T10:05:00.500Z"));

        await fixture.AddAsync("edited", "*/5 * * * *"); // its owner changed something else while the run was due
        (await fixture.NextRunAsync("edited")).ShouldBe(Utc("2026-11-21T10:05:00Z"));
        await fixture.AddAsync("edited", "0 * * * *");
        (await fixture.NextRunAsync("edited")).ShouldBe(Utc("2026-11-21T11:00:00Z"));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task The_running_scheduler_wakes_on_the_clock_and_fires(string store)
    {
        await using var fixture = await SchedulerFixture.CreateAsync(store, Utc("2026-11-21T10:00:30Z"));
        await fixture.AddAsync("minutely", "* * * * *");
        var scheduler = fixture.NewScheduler();
        await scheduler.StartAsync(CancellationToken.None);
        try
        {
            fixture.Clock.SetUtcNow(Utc("2026-11-21T10:01:00Z"));
            await EventuallyAsTimePasses(fixture.Clock, () => fixture.Committed.Count == 1);
            fixture.Clock.SetUtcNow(Utc("2026-11-21T10:02:00Z"));
            await EventuallyAsTimePasses(fixture.Clock, () => fixture.Committed.Count == 2);

            fixture.Committed.Select(r => r.ScheduledFor).ShouldBe([Utc("2026-11-21T10:01:00Z"), Utc("2026-11-21T10:02:00Z")]);
        }
        finally
        {
            await scheduler.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Runs_follow_the_wall_clock_of_their_zone_across_both_dst_changes(string store)
    {
        await using var fixture = await SchedulerFixture.CreateAsync(store, Utc("2026-03-27T12:00:00Z"));
        await fixture.AddAsync("nightly", "30 2 * * *", "Europe/Berlin");
        await fixture.AddAsync("hourly", "0 * * * *", "Europe/Berlin");
        var scheduler = fixture.NewScheduler();

        // Step from due time to due time through spring forward (03-29) and fall back (10-25).
        await RunUntilAsync(fixture, scheduler, Utc("2026-03-30T12:00:00Z"));
        await SkipToAsync(fixture, Utc("2026-10-24T12:00:00Z"));
        await RunUntilAsync(fixture, scheduler, Utc("2026-10-26T12:00:00Z"));

        var nightly = fixture.Committed.Where(r => r.ScheduleId == "nightly").Select(r => r.ScheduledFor).ToList();
        nightly.ShouldBe(
        [
            Utc("2026-03-28T01:30:00Z"), // 02:30 CET
            Utc("2026-03-29T01:00:00Z"), // 02:30 does not exist: at the jump to 03:00 CEST
            Utc("2026-03-30T00:30:00Z"), // 02:30 CEST
            Utc("2026-10-25T00:30:00Z"), // the first of the two 02:30s
            Utc("2026-10-26T01:30:00Z"), // 02:30 CET
        ]);
        nightly.ShouldAllBe(at => fixture.Committed.Count(r => r.ScheduleId == "nightly" && r.ScheduledFor == at) == 1);
        var hourly = fixture.Committed.Where(r => r.ScheduleId == "hourly" && r.ScheduledFor >= Utc("2026-10-24T22:00:00Z") && r.ScheduledFor <= Utc("2026-10-25T03:00:00Z"))
            .Select(r => r.ScheduledFor).ToList();
        hourly.Count.ShouldBe(6, "every real hour fires once, the repeated 02:00 included");
        fixture.Committed.ShouldAllBe(r => !r.CatchUp);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Two_schedulers_on_one_store_fire_each_run_once_between_them(string store)
    {
        await using var fixture = await SchedulerFixture.CreateAsync(store, Utc("2026-11-21T10:00:30Z"));
        for (var i = 0; i < 60; i++)
        {
            await fixture.AddAsync($"s{i:D2}", "* * * * *");
        }
        var small = new SchedulerOptions { BatchSize = 7 };
        var first = fixture.NewScheduler(options: small);
        var second = fixture.NewScheduler(options: small);

        for (var minute = 1; minute <= 3; minute++)
        {
            fixture.Clock.SetUtcNow(Utc("2026-11-21T10:00:00Z").AddMinutes(minute));
            // Both race for the same due schedules until neither finds any left.
            while ((await Task.WhenAll(DrainAsync(first), DrainAsync(second))).Sum() > 0)
            {
            }
        }

        fixture.Committed.Count.ShouldBe(180);
        fixture.Committed.GroupBy(r => (r.ScheduleId, r.ScheduledFor)).ShouldAllBe(g => g.Count() == 1);
        (await fixture.StoredRunsAsync()).Count.ShouldBe(180);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_restart_in_the_middle_of_a_due_run_neither_repeats_nor_skips_it(string store)
    {
        await using var fixture = await SchedulerFixture.CreateAsync(store, Utc("2026-11-21T10:00:30Z"));
        await fixture.AddAsync("report", "* * * * *");
        var inside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var crash = new CancellationTokenSource();
        var dying = fixture.NewScheduler(new SchedulerFixture.RecordingWork(fixture, async (_, token) =>
        {
            inside.TrySetResult();
            await Task.Delay(Timeout.Infinite, token); // the process dies here, mid-transaction
        }));
        fixture.Clock.SetUtcNow(Utc("2026-11-21T10:01:00Z"));

        var running = dying.RunDueAsync(crash.Token);
        await inside.Task;
        await crash.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(running);
        fixture.Committed.ShouldBeEmpty();
        (await fixture.StoredRunsAsync()).ShouldBeEmpty();

        fixture.Clock.SetUtcNow(Utc("2026-11-21T10:01:20Z"));
        var restarted = fixture.NewScheduler();
        (await restarted.RunDueAsync(CancellationToken.None)).ShouldBe(1);
        var again = fixture.NewScheduler();
        (await again.RunDueAsync(CancellationToken.None)).ShouldBe(0);

        var run = fixture.Committed.ShouldHaveSingleItem();
        run.ScheduledFor.ShouldBe(Utc("2026-11-21T10:01:00Z"));
        run.CatchUp.ShouldBeFalse("20 s late is within the misfire threshold");
        (await fixture.NextRunAsync("report")).ShouldBe(Utc("2026-11-21T10:02:00Z"));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Runs_missed_while_down_fire_once_as_a_catch_up_then_continue(string store)
    {
        await using var fixture = await SchedulerFixture.CreateAsync(store, Utc("2026-11-21T09:30:00Z"));
        await fixture.AddAsync("hourly", "0 * * * *");
        await fixture.AddAsync("hourly-skip", "0 * * * *", catchUp: CatchUpPolicy.Skip);

        // Down from 09:30 until 13:20: the runs of 10:00, 11:00, 12:00 and 13:00 were missed.
        fixture.Clock.SetUtcNow(Utc("2026-11-21T13:20:00Z"));
        var scheduler = fixture.NewScheduler();
        (await scheduler.RunDueAsync(CancellationToken.None)).ShouldBe(2);

        var caughtUp = fixture.Committed.ShouldHaveSingleItem();
        caughtUp.ScheduleId.ShouldBe("hourly");
        caughtUp.ScheduledFor.ShouldBe(Utc("2026-11-21T13:00:00Z"));
        caughtUp.CatchUp.ShouldBeTrue();
        (await fixture.NextRunAsync("hourly")).ShouldBe(Utc("2026-11-21T14:00:00Z"));
        (await fixture.NextRunAsync("hourly-skip")).ShouldBe(Utc("2026-11-21T14:00:00Z"));

        fixture.Clock.SetUtcNow(Utc("2026-11-21T14:00:00Z"));
        (await scheduler.RunDueAsync(CancellationToken.None)).ShouldBe(2);
        fixture.Committed.Skip(1).ShouldAllBe(r => !r.CatchUp && r.ScheduledFor == Utc("2026-11-21T14:00:00Z"));
        fixture.Committed.Count.ShouldBe(3);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_run_missed_while_down_catches_up_and_the_run_due_on_time_fires_too(string store)
    {
        await using var fixture = await SchedulerFixture.CreateAsync(store, Utc("2026-11-21T01:59:00Z"));
        await fixture.AddAsync("every-5", "*/5 * * * *");
        await fixture.AddAsync("every-5-skip", "*/5 * * * *", catchUp: CatchUpPolicy.Skip);

        // Down from 01:59 until 02:05:30: the 02:00 run was missed (330 s late); the 02:05 run is on time (30 s).
        fixture.Clock.SetUtcNow(Utc("2026-11-21T02:05:30Z"));
        (await fixture.NewScheduler().RunDueAsync(CancellationToken.None)).ShouldBe(2);

        fixture.Committed.Where(r => r.ScheduleId == "every-5").Select(r => (r.ScheduledFor, r.CatchUp))
            .ShouldBe([(Utc("2026-11-21T02:00:00Z"), true), (Utc("2026-11-21T02:05:00Z"), false)]);
        fixture.Committed.Where(r => r.ScheduleId == "every-5-skip").Select(r => (r.ScheduledFor, r.CatchUp))
            .ShouldBe([(Utc("2026-11-21T02:05:00Z"), false)]);
        (await fixture.NextRunAsync("every-5")).ShouldBe(Utc("2026-11-21T02:10:00Z"));
        (await fixture.NextRunAsync("every-5-skip")).ShouldBe(Utc("2026-11-21T02:10:00Z"));
        (await fixture.StoredRunsAsync()).Select(r => (r.ScheduleId, r.ScheduledFor, r.CatchUp)).ShouldBe(
        [
            ("every-5", Utc("2026-11-21T02:00:00Z").ToUnixTimeMilliseconds(), 1L),
            ("every-5", Utc("2026-11-21T02:05:00Z").ToUnixTimeMilliseconds(), 0L),
            ("every-5-skip", Utc("2026-11-21T02:05:00Z").ToUnixTimeMilliseconds(), 0L),
        ]);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Runs_more_than_60_s_late_are_all_missed_and_one_exactly_60_s_late_is_on_time(string store)
    {
        await using var fixture = await SchedulerFixture.CreateAsync(store, Utc("2026-11-21T01:59:00Z"));
        await fixture.AddAsync("on-the-5s", "*/5 * * * *");
        await fixture.AddAsync("on-the-1s", "1-59/5 * * * *");

        // Back at 02:07: 02:00 and 02:05 were both missed (02:05 by 120 s), so one catch-up fires, for 02:05. The 02:06
        // run is exactly 60 s late, not more, so it is on time, after a catch-up for the missed 02:01.
        fixture.Clock.SetUtcNow(Utc("2026-11-21T02:07:00Z"));
        (await fixture.NewScheduler().RunDueAsync(CancellationToken.None)).ShouldBe(2);

        fixture.Committed.Where(r => r.ScheduleId == "on-the-5s").Select(r => (r.ScheduledFor, r.CatchUp))
            .ShouldBe([(Utc("2026-11-21T02:05:00Z"), true)]);
        fixture.Committed.Where(r => r.ScheduleId == "on-the-1s").Select(r => (r.ScheduledFor, r.CatchUp))
            .ShouldBe([(Utc("2026-11-21T02:01:00Z"), true), (Utc("2026-11-21T02:06:00Z"), false)]);
        (await fixture.NextRunAsync("on-the-5s")).ShouldBe(Utc("2026-11-21T02:10:00Z"));
        (await fixture.NextRunAsync("on-the-1s")).ShouldBe(Utc("2026-11-21T02:11:00Z"));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_batch_that_finds_a_run_taken_or_a_schedule_moved_is_undone_and_the_others_fire_once(string store)
    {
        await using var fixture = await SchedulerFixture.CreateAsync(store, Utc("2026-11-21T10:00:30Z"));
        for (var i = 0; i < 5; i++)
        {
            await fixture.AddAsync($"s{i}", "* * * * *");
        }
        var due = Utc("2026-11-21T10:01:00Z");
        await fixture.TakeRunAsync("s1", due); // another scheduler already recorded s1's run
        var scheduler = fixture.NewScheduler(new MovingWork(fixture, "s3")); // and moves s3 on while this one fires it
        fixture.Clock.SetUtcNow(due);

        (await scheduler.RunDueAsync(CancellationToken.None)).ShouldBe(3);

        fixture.Committed.Select(r => r.ScheduleId).Order().ShouldBe(["s0", "s2", "s4"]);
        (await fixture.StoredRunsAsync()).Select(r => (r.ScheduleId, r.Result)).ShouldBe(
            [("s0", "ran s0"), ("s1", "elsewhere"), ("s2", "ran s2"), ("s4", "ran s4")]);
        (await fixture.NextRunAsync("s0")).ShouldBe(due.AddMinutes(1));
        (await fixture.NextRunAsync("s1")).ShouldBe(due, "the batch that found its run taken was undone");
        (await fixture.NextRunAsync("s3")).ShouldBe(due, "the move made inside the undone transaction went with it");
        (await fixture.NextRunAsync("s4")).ShouldBe(due.AddMinutes(1));
    }

    /// <summary>Work that, inside the scheduler's transaction, moves one schedule on as a racing scheduler would.</summary>
    private sealed class MovingWork(SchedulerFixture fixture, string moved) : IScheduledWork
    {
        private readonly SchedulerFixture.RecordingWork recording = new(fixture);

        public string Kind => recording.Kind;

        public async Task<IReadOnlyList<string?>> StartAsync(
            DbConnection connection, DbTransaction transaction, IReadOnlyList<ScheduledRun> runs, CancellationToken cancellationToken)
        {
            if (runs.Any(r => r.ScheduleId == moved))
            {
                await connection.ExecuteAsync(new CommandDefinition("UPDATE schedules SET next_run_at = next_run_at + 1 WHERE id = @moved",
                    new { moved }, transaction, cancellationToken: cancellationToken));
            }
            return await recording.StartAsync(connection, transaction, runs, cancellationToken);
        }

        public void Committed(IReadOnlyList<ScheduledRun> runs) => recording.Committed(runs);
    }

    private static async Task<int> DrainAsync(Scheduler scheduler)
    {
        var total = 0;
        int fired;
        while ((fired = await scheduler.RunDueAsync(CancellationToken.None)) > 0)
        {
            total += fired;
        }
        return total;
    }

    /// <summary>Moves the clock to each next due time in turn, firing what is due, until <paramref name="end"/>.</summary>
    private static async Task RunUntilAsync(SchedulerFixture fixture, Scheduler scheduler, DateTimeOffset end)
    {
        while (new[] { await fixture.NextRunAsync("nightly"), await fixture.NextRunAsync("hourly") }.Min()!.Value is var next && next <= end)
        {
            fixture.Clock.SetUtcNow(next);
            await scheduler.RunDueAsync(CancellationToken.None);
        }
        fixture.Clock.SetUtcNow(end);
    }

    /// <summary>Jumps the clock without firing: both schedules are saved anew from there, as a pause and a resume would.</summary>
    private static async Task SkipToAsync(SchedulerFixture fixture, DateTimeOffset to)
    {
        fixture.Clock.SetUtcNow(to);
        foreach (var active in new[] { false, true })
        {
            await fixture.AddAsync("nightly", "30 2 * * *", "Europe/Berlin", active: active);
            await fixture.AddAsync("hourly", "0 * * * *", "Europe/Berlin", active: active);
        }
    }

    // A jump of the clock can land between the scheduler working out its sleep and starting its timer; then the timer is
    // due a sleep after the new time. Time goes on in a real process, so it does here too: a second per check, at most 20.
    private static async Task EventuallyAsTimePasses(ManualClock clock, Func<bool> condition)
    {
        for (var i = 0; i < 20 && !condition(); i++)
        {
            await Task.Delay(100);
            if (!condition())
            {
                clock.Advance(TimeSpan.FromSeconds(1));
            }
        }
        await Eventually(condition);
    }

    private static async Task Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(50);
        }
        condition().ShouldBeTrue();
    }
}
