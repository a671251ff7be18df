using Kennel.ControlPlane.Scheduling;

namespace Kennel.Tests.Units;

public sealed class CronExpressionTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    // In tzdata, Irish summer time is the standard time and winter is a negative DST, which Cronos's own zone stepping
    // gets wrong: it answers 00:00Z for "*/15 1-3 * * *" on the spring night, again and again.
    private static readonly TimeZoneInfo Dublin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Dublin");

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

    [Theory]
    [InlineData("1,,2 * * * *", "minute field '1,,2' has an empty element")]
    [InlineData(", * * * *", "minute field ',' has an empty element")]
    [InlineData("*/5, * * * *", "minute field '*/5,' has an empty element")]
    [InlineData("* * * ,JAN *", "month field ',JAN' has an empty element")]
    [InlineData("* * * * MON,,FRI", "day-of-week field 'MON,,FRI' has an empty element")]
    [InlineData("/5 * * * *", "minute field's '/5' needs a value")]
    [InlineData("1,/5 * * * *", "minute field's '/5' needs a value")]
    public void A_list_with_an_empty_element_is_refused_naming_the_field(string cron, string message) =>
        Should.Throw<FormatException>(() => CronExpression.Parse(cron)).Message.ShouldContain(message);

    [Fact]
    public void A_step_past_every_value_fires_only_at_the_start_of_its_range()
    {
        Runs("59/2147483647 * * * *", TimeZoneInfo.Utc, "2026-11-21T10:00:00Z", 2).ShouldBe([Utc("2026-11-21T10:59:00Z"), Utc("2026-11-21T11:59:00Z")]);
        Runs("0 23/2147483647 * * *", TimeZoneInfo.Utc, "2026-11-21T10:00:00Z", 1).ShouldBe([Utc("2026-11-21T23:00:00Z")]);
    }

    /// <summary>
    /// Random expressions built from cron's own pieces (and some that are not): each parses, and then yields strictly
    /// later runs in zones with odd offsets and changes, or is refused with a <see cref="FormatException"/>. Any other
    /// exception is a bug, as the empty list element was ('startIndex').
    /// </summary>
    [Fact]
    public void Fuzzed_expressions_parse_or_are_refused_and_never_crash()
    {
        var random = new Random(10);
        string[] pieces = ["*", "?", ",", "-", "/", " ", "0", "1", "5", "7", "12", "23", "31", "59", "60", "2147483647", "2147483648", "-1", "JAN", "dec", "SUN", "sat",
            "@", "@daily", "@x", "L", "W", "#", "\t", "\u00a0", "\u0663", "+1", "0x1", "\0"];
        TimeZoneInfo[] zones = [TimeZoneInfo.Utc, Berlin, NewYork, TimeZoneInfo.FindSystemTimeZoneById("Australia/Lord_Howe"), TimeZoneInfo.FindSystemTimeZoneById("Asia/Kathmandu")];
        string Value() => random.Next(20) switch
        {
            0 => pieces[random.Next(pieces.Length)],
            1 => random.Next(0, 100).ToString(System.Globalization.CultureInfo.InvariantCulture),
            2 => "2147483647",
            3 => "SUN",
            4 => "JAN",
            _ => random.Next(1, 7).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        string Element() => (random.Next(4) switch { 0 => "*", 1 => $"{Value()}-{Value()}", _ => Value() }) + (random.Next(3) == 0 ? $"/{Value()}" : "");
        string Field() => string.Join(random.Next(20) == 0 ? ",," : ",", Enumerable.Range(0, random.Next(1, 4)).Select(_ => Element()));
        string Expression() => random.Next(3) switch
        {
            0 => string.Concat(Enumerable.Range(0, random.Next(0, 16)).Select(_ => pieces[random.Next(pieces.Length)])),
            _ => string.Join(' ', Enumerable.Range(0, random.Next(20) == 0 ? random.Next(0, 8) : 5).Select(_ => Field())),
        };

        var parsed = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var text = System.Text.RegularExpressions.Regex.Unescape(Expression());
            CronExpression expression;
            try
            {
                expression = CronExpression.Parse(text);
            }
            catch (FormatException)
            {
                continue;
            }
            parsed++;
            var at = DateTimeOffset.UnixEpoch.AddSeconds(random.NextInt64(0, 4_000_000_000));
            var zone = zones[random.Next(zones.Length)];
            for (var run = 0; run < 3 && expression.NextAfter(at, zone) is { } next; run++)
            {
                next.ShouldBeGreaterThan(at, text);
                at = next;
            }
        }
        parsed.ShouldBeGreaterThan(100);
    }

    // Where Kennel differs from Cronos, which parses expressions and matches wall-clock times (docs/architecture.md,
    // "Cron evaluation"): each case below is one that Cronos alone answers otherwise.

    [Fact]
    public void A_zone_whose_dst_is_negative_in_tzdata_follows_the_same_rules()
    {
        // Dublin, 2026-03-29: 01:00 GMT becomes 02:00 IST (01:00Z). 2026-10-25: 02:00 IST becomes 01:00 GMT (01:00Z).
        Runs("30 1 * * *", Dublin, "2026-03-28T00:00:00Z", 3).ShouldBe(
            [Utc("2026-03-28T01:30:00Z"), Utc("2026-03-29T01:00:00Z"), Utc("2026-03-30T00:30:00Z")]);
        Runs("*/15 1-3 * * *", Dublin, "2026-03-28T12:00:00Z", 3).ShouldBe(
            [Utc("2026-03-29T01:00:00Z"), Utc("2026-03-29T01:15:00Z"), Utc("2026-03-29T01:30:00Z")]);
        Runs("30 1 * * *", Dublin, "2026-10-24T00:00:00Z", 3).ShouldBe(
            [Utc("2026-10-24T00:30:00Z"), Utc("2026-10-25T00:30:00Z"), Utc("2026-10-26T01:30:00Z")]);
        Runs("0 * * * *", Dublin, "2026-10-24T23:30:00Z", 4).ShouldBe(
            [Utc("2026-10-25T00:00:00Z"), Utc("2026-10-25T01:00:00Z"), Utc("2026-10-25T02:00:00Z"), Utc("2026-10-25T03:00:00Z")]);
    }

    [Fact]
    public void Steps_within_a_fixed_hour_run_once_in_the_hour_fall_back_repeats()
    {
        // Cronos would run 02:00-02:45 again in the second pass, because the minute field is written as a step.
        Runs("*/15 2 * * *", Berlin, "2026-10-24T23:00:00Z", 5).ShouldBe(
        [
            Utc("2026-10-25T00:00:00Z"), Utc("2026-10-25T00:15:00Z"), Utc("2026-10-25T00:30:00Z"), Utc("2026-10-25T00:45:00Z"),
            Utc("2026-10-26T01:00:00Z"),
        ]);
    }

    [Fact]
    public void Every_hour_listed_one_by_one_runs_in_the_repeated_hour_as_star_does()
    {
        var everyHour = string.Join(',', Enumerable.Range(0, 24));
        Runs($"0 {everyHour} * * *", Berlin, "2026-10-24T23:30:00Z", 4).ShouldBe(
            [Utc("2026-10-25T00:00:00Z"), Utc("2026-10-25T01:00:00Z"), Utc("2026-10-25T02:00:00Z"), Utc("2026-10-25T03:00:00Z")]);
    }

    [Theory]
    [InlineData("0 0 13 * FRI", "2026-11-21T00:00:00Z", "2026-11-27T00:00:00Z")] // a Friday; Cronos would wait for a Friday the 13th
    [InlineData("*/20,5 * * * *", "2026-11-21T10:01:00Z", "2026-11-21T10:05:00Z")] // Cronos takes * only alone in a field
    [InlineData("0 */2,5 * * *", "2026-11-21T04:30:00Z", "2026-11-21T05:00:00Z")]
    [InlineData("55/1 * * * *", "2026-11-21T10:56:00Z", "2026-11-21T10:57:00Z")] // from 55 to the end, every minute
    [InlineData("0 0 L * *", "2026-11-21T00:00:00Z", "2026-11-30T00:00:00Z")] // Cronos's extensions: the last day
    [InlineData("0 9 * * MON#1", "2026-11-21T00:00:00Z", "2026-12-07T09:00:00Z")] // the first Monday
    public void Next_run_where_cronos_alone_differs(string cron, string after, string expected) =>
        CronExpression.Parse(cron).NextAfter(Utc(after), TimeZoneInfo.Utc).ShouldBe(Utc(expected));

    [Theory]
    [InlineData("@every_second", "Unknown macro")]
    [InlineData("@every_minute", "Unknown macro")]
    [InlineData("H * * * *", "The minute field 'H' is not valid: H (a hashed value) is not supported")]
    [InlineData("* * * * 8", "The day-of-week field '8' is not valid: Value must be a number between 0 and 7")]
    [InlineData("0 0 1-40/50 * *", "The day-of-month field '1-40' is not valid")]
    [InlineData("23-1 * * * *", "The minute range '23-1' runs backwards")]
    [InlineData("* * * DEC-FEB *", "The month range 'DEC-FEB' runs backwards")]
    public void What_cronos_takes_otherwise_is_refused_naming_the_field(string cron, string message) =>
        Should.Throw<FormatException>(() => CronExpression.Parse(cron)).Message.ShouldContain(message);
}
