using Kennel.ControlPlane.Scheduling;

namespace Kennel.Tests.Units;

public sealed class CronExpressionTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    private static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    private static List<DateTimeOffset> Runs(string cron, TimeZoneInfo zone, string from, int count)
    {
        var expression = CronExpression.Parse(cron);
        var runs = new List<DateTimeOffset>();
        var at = Utc(from);
        for (var i = 0; i < count; i++)
        {
            at = expression.NextAfter(at, zone)!.Value;
            runs.Add(at);
        }
        return runs;
    }

    [Theory]
    [InlineData("*/15 * * * *", "2026-11-21T10:07:00Z", "2026-11-21T10:15:00Z")]
    [InlineData("0 9 * * MON-FRI", "2026-11-21T10:00:00Z", "2026-11-23T09:00:00Z")] // Saturday → Monday
    [InlineData("30 2 1 JAN *", "2026-11-21T00:00:00Z", "2027-01-01T02:30:00Z")]
    [InlineData("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z")]
    [InlineData("5/20 * * * *", "2026-11-21T10:06:00Z", "2026-11-21T10:25:00Z")]
    [InlineData("0 12 * * 7", "2026-11-21T13:00:00Z", "2026-11-22T12:00:00Z")] // 7 is Sunday
    [InlineData("0 0 13 * FRI", "2026-11-21T00:00:00Z", "2026-11-27T00:00:00Z")] // either day field matches
    [InlineData("@hourly", "2026-11-21T10:00:00Z", "2026-11-21T11:00:00Z")]
    [InlineData("@daily", "2026-11-21T10:00:00Z", "2026-11-22T00:00:00Z")]
    [InlineData("@weekly", "2026-11-21T10:00:00Z", "2026-11-22T00:00:00Z")]
    [InlineData("@monthly", "2026-11-21T10:00:00Z", "2026-12-01T00:00:00Z")]
    [InlineData("@yearly", "2026-11-21T10:00:00Z", "2027-01-01T00:00:00Z")]
    public void Next_run_in_utc(string cron, string after, string expected) =>
        CronExpression.Parse(cron).NextAfter(Utc(after), TimeZoneInfo.Utc).ShouldBe(Utc(expected));

    [Fact]
    public void The_next_run_is_strictly_after_the_given_time()
    {
        CronExpression.Parse("* * * * *").NextAfter(Utc("2026-11-21T10:00:00Z"), TimeZoneInfo.Utc).ShouldBe(Utc("2026-11-21T10:01:00Z"));
        CronExpression.Parse("* * * * *").NextAfter(Utc("2026-11-21T10:00:30Z"), TimeZoneInfo.Utc).ShouldBe(Utc("2026-11-21T10:01:00Z"));
    }

    [Fact]
    public void A_time_zone_shifts_the_wall_clock_time()
    {
        Runs("0 9 * * *", Berlin, "2026-11-21T00:00:00Z", 1).ShouldBe([Utc("2026-11-21T08:00:00Z")]); // CET, UTC+1
        Runs("0 9 * * *", Berlin, "2026-07-01T00:00:00Z", 1).ShouldBe([Utc("2026-07-01T07:00:00Z")]); // CEST, UTC+2
    }

    [Fact]
    public void A_daily_run_in_the_hour_spring_forward_skips_fires_once_when_the_clock_jumps()
    {
        // Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00Z). 02:30 does not exist that day.
        Runs("30 2 * * *", Berlin, "2026-03-28T00:00:00Z", 3).ShouldBe(
        [
            Utc("2026-03-28T01:30:00Z"), // 02:30 CET
            Utc("2026-03-29T01:00:00Z"), // the jump, 03:00 CEST
            Utc("2026-03-30T00:30:00Z"), // 02:30 CEST
        ]);
    }

    [Fact]
    public void A_daily_run_in_the_hour_fall_back_repeats_fires_once()
    {
        // Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00Z), so 02:30 happens twice.
        Runs("30 2 * * *", Berlin, "2026-10-24T00:00:00Z", 3).ShouldBe(
        [
            Utc("2026-10-24T00:30:00Z"), // 02:30 CEST
            Utc("2026-10-25T00:30:00Z"), // the first 02:30, CEST
            Utc("2026-10-26T01:30:00Z"), // 02:30 CET
        ]);
    }

    [Fact]
    public void An_hourly_run_fires_every_real_hour_across_both_changes()
    {
        // Spring forward: one hour fewer on the wall clock, none missed in real time.
        Runs("0 * * * *", Berlin, "2026-03-28T23:30:00Z", 4).ShouldBe(
            [Utc("2026-03-29T00:00:00Z"), Utc("2026-03-29T01:00:00Z"), Utc("2026-03-29T02:00:00Z"), Utc("2026-03-29T03:00:00Z")]);
        // Fall back: 02:00 happens twice and an hourly run fires in both.
        Runs("0 * * * *", Berlin, "2026-10-24T23:30:00Z", 4).ShouldBe(
            [Utc("2026-10-25T00:00:00Z"), Utc("2026-10-25T01:00:00Z"), Utc("2026-10-25T02:00:00Z"), Utc("2026-10-25T03:00:00Z")]);
    }

    [Fact]
    public void New_york_changes_on_its_own_dates()
    {
        // 2026-03-08 02:00 EST → 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT → 01:00 EST (06:00Z).
        Runs("15 2 * * *", NewYork, "2026-03-07T12:00:00Z", 2).ShouldBe([Utc("2026-03-08T07:00:00Z"), Utc("2026-03-09T06:15:00Z")]);
        Runs("30 1 * * *", NewYork, "2026-11-01T00:00:00Z", 2).ShouldBe([Utc("2026-11-01T05:30:00Z"), Utc("2026-11-02T06:30:00Z")]);
    }

    [Fact]
    public void A_date_that_never_comes_has_no_next_run() =>
        CronExpression.Parse("0 0 30 2 *").NextAfter(Utc("2026-01-01T00:00:00Z"), TimeZoneInfo.Utc).ShouldBeNull();

    [Theory]
    [InlineData("* * * *", "5 fields")]
    [InlineData("60 * * * *", "minute")]
    [InlineData("* 24 * * *", "hour")]
    [InlineData("* * 0 * *", "day-of-month")]
    [InlineData("* * * 13 *", "month")]
    [InlineData("* * * * 8", "day-of-week")]
    [InlineData("*/0 * * * *", "step")]
    [InlineData("5-1 * * * *", "backwards")]
    [InlineData("@reboot", "Unknown macro")]
    [InlineData("a b c d e", "minute")]
    public void A_bad_expression_says_what_is_wrong(string cron, string message) =>
        Should.Throw<FormatException>(() => CronExpression.Parse(cron)).Message.ShouldContain(message);
}
