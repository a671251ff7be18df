using Kennel.Contracts.Cron;
using Kennel.ControlPlane.Cron;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Scheduling;
using Kennel.ControlPlane.Snapshots;

namespace Kennel.Tests.Cron;

/// <summary>What each kind of cron schedule means, on a fixed clock: the next runs a caller is shown, across DST and from an anchor.</summary>
public sealed class CronScheduleTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 27, 10, 0, 0, TimeSpan.Zero);

    private static IReadOnlyList<DateTimeOffset> NextRuns(CronSchedule schedule, DateTimeOffset now, int count = 3)
    {
        var valid = CronValidator.Validate(new CreateCronJobRequest
        {
            Name = "job",
            Agent = "main",
            Schedule = schedule,
            Payload = new CronPayload { Kind = "agentTurn", Message = "hi" },
        }, new SnapshotCatalog(null!), now);
        return Schedules.NextRuns(new ScheduleDefinition("cron_x", CronJobSchedule.KindName, "w", valid.ScheduleText.Expression, valid.ScheduleText.Timezone,
            CatchUpPolicy.Once), now, count);
    }

    [Fact]
    public void A_cron_job_at_half_past_two_in_berlin_fires_at_three_on_the_night_the_clocks_skip_it()
    {
        // Europe/Berlin moves from 02:00 CET to 03:00 CEST on 2026-03-29: 02:30 does not exist that night.
        var runs = NextRuns(new CronSchedule { Kind = "cron", Expr = "30 2 * * *", Tz = "Europe/Berlin" }, Now);

        runs.ShouldBe([
            new DateTimeOffset(2026, 3, 28, 1, 30, 0, TimeSpan.Zero), // 02:30 CET
            new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), // 03:00 CEST, the moment of the change
            new DateTimeOffset(2026, 3, 30, 0, 30, 0, TimeSpan.Zero), // 02:30 CEST
        ]);
    }

    [Fact]
    public void A_cron_job_fires_once_in_the_hour_that_the_autumn_change_repeats()
    {
        // New York repeats 01:00-02:00 on 2026-11-01; a job at 01:30 runs once that night, at the first 01:30 (EDT).
        var runs = NextRuns(new CronSchedule { Kind = "cron", Expr = "30 1 * * *", Tz = "America/New_York" }, new DateTimeOffset(2026, 10, 31, 12, 0, 0, TimeSpan.Zero));

        runs.ShouldBe([
            new DateTimeOffset(2026, 11, 1, 5, 30, 0, TimeSpan.Zero),
            new DateTimeOffset(2026, 11, 2, 6, 30, 0, TimeSpan.Zero),
            new DateTimeOffset(2026, 11, 3, 6, 30, 0, TimeSpan.Zero),
        ]);
    }

    [Fact]
    public void An_every_job_counts_its_intervals_from_its_creation_not_from_the_clock()
    {
        var created = Now.AddSeconds(17.25);
        var runs = NextRuns(CronApiSchedules.Every("45m"), created);

        runs.ShouldBe([created.AddMinutes(45), created.AddMinutes(90), created.AddMinutes(135)]);
    }

    [Fact]
    public void An_every_interval_stays_anchored_after_an_outage()
    {
        var anchor = Now;
        var interval = new FixedInterval(TimeSpan.FromMinutes(30), anchor);

        interval.NextAfter(anchor.AddHours(5).AddMinutes(7), TimeZoneInfo.Utc).ShouldBe(anchor.AddHours(5).AddMinutes(30));
        interval.NextAfter(anchor.AddMinutes(30), TimeZoneInfo.Utc).ShouldBe(anchor.AddMinutes(60), "strictly after");
    }

    [Fact]
    public void An_at_job_fires_once_and_without_an_offset_is_read_as_utc()
    {
        var runs = NextRuns(new CronSchedule { Kind = "at", At = "2026-03-27T15:00:00" }, Now);

        runs.ShouldBe([new DateTimeOffset(2026, 3, 27, 15, 0, 0, TimeSpan.Zero)]);
        NextRuns(new CronSchedule { Kind = "at", At = "2026-03-27T15:00:00+02:00" }, Now).ShouldBe([new DateTimeOffset(2026, 3, 27, 13, 0, 0, TimeSpan.Zero)]);
    }

    [Theory]
    [InlineData("at", null, "2026-03-27T09:59:59Z", null, "schedule.at")]
    [InlineData("at", null, "tomorrow", null, "schedule.at")]
    [InlineData("every", null, null, "59s", "schedule.every")]
    [InlineData("every", null, null, "10 minutes", "schedule.every")]
    [InlineData("cron", "61 * * * *", null, null, "schedule.expr")]
    [InlineData("cron", "* * * *", null, null, "schedule.expr")]
    [InlineData("hourly", null, null, null, "schedule.kind")]
    public void A_schedule_that_cannot_be_kept_is_refused_naming_its_field(string kind, string? expr, string? at, string? every, string field)
    {
        var problem = Should.Throw<ApiProblem>(() => NextRuns(new CronSchedule { Kind = kind, Expr = expr, At = at, Every = every }, Now));

        problem.Field.ShouldBe(field);
        problem.Code.ShouldBe("invalid_request");
    }

    [Theory]
    [InlineData("30m", 1800)]
    [InlineData("1h30m", 5400)]
    [InlineData("2d", 172800)]
    [InlineData("PT45M", 2700)]
    [InlineData("90s", 90)]
    public void Durations_are_read_as_people_write_them(string text, int seconds) =>
        CronValidator.ParseDuration(text).ShouldBe(TimeSpan.FromSeconds(seconds));
}

internal static class CronApiSchedules
{
    public static CronSchedule Every(string every) => new() { Kind = "every", Every = every };
}
