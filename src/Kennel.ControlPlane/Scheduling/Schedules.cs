using System.Collections.Concurrent;

namespace Kennel.ControlPlane.Scheduling;

/// <summary>
/// Checks and evaluates schedule definitions: an expression (a cron expression, or the <see cref="OneTime"/> and
/// <see cref="FixedInterval"/> forms that cron jobs also use), an IANA time zone and a catch-up policy.
/// </summary>
public static class Schedules
{
    public const string DefaultTimezone = "UTC";

    // Parsed once per distinct expression: a busy minute fires thousands of schedules that share a handful of them.
    private const int MaxCachedExpressions = 10_000;
    private static readonly ConcurrentDictionary<string, IScheduleExpression> Parsed = new(StringComparer.Ordinal);

    /// <summary>The time zone of an IANA id (such as Europe/Berlin), or null when this machine does not know it.</summary>
    public static TimeZoneInfo? FindZone(string id)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Length > 64)
        {
            return null;
        }
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return null;
        }
    }

    /// <summary>The schedule's first run strictly after <paramref name="after"/>.</summary>
    public static DateTimeOffset? NextRun(ScheduleDefinition schedule, DateTimeOffset after) =>
        Expression(schedule.Cron).NextAfter(after, FindZone(schedule.Timezone)
            ?? throw new InvalidOperationException($"Schedule {schedule.Id} has an unknown time zone '{schedule.Timezone}'."));

    /// <summary>The next runs after <paramref name="after"/>, at most <paramref name="count"/>: what a schedule means, shown to whoever writes one.</summary>
    public static IReadOnlyList<DateTimeOffset> NextRuns(ScheduleDefinition schedule, DateTimeOffset after, int count)
    {
        var runs = new List<DateTimeOffset>(count);
        while (runs.Count < count && NextRun(schedule, after) is { } next)
        {
            runs.Add(next);
            after = next;
        }
        return runs;
    }

    private static IScheduleExpression Expression(string cron)
    {
        if (Parsed.TryGetValue(cron, out var expression))
        {
            return expression;
        }
        if (Parsed.Count >= MaxCachedExpressions)
        {
            Parsed.Clear();
        }
        return Parsed.GetOrAdd(cron, Parse);
    }

    private static IScheduleExpression Parse(string text) =>
        OneTime.TryParse(text) ?? FixedInterval.TryParse(text) ?? (IScheduleExpression)CronExpression.Parse(text);
}
