using System.Collections.Concurrent;

namespace Kennel.ControlPlane.Scheduling;

/// <summary>Checks and evaluates schedule definitions: cron expression, IANA time zone and catch-up policy.</summary>
public static class Schedules
{
    public const string DefaultTimezone = "UTC";

    // Parsed once per distinct expression: a busy minute fires thousands of schedules that share a handful of them.
    private const int MaxCachedExpressions = 10_000;
    private static readonly ConcurrentDictionary<string, CronExpression> Parsed = new(StringComparer.Ordinal);

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

    private static CronExpression Expression(string cron)
    {
        if (Parsed.TryGetValue(cron, out var expression))
        {
            return expression;
        }
        if (Parsed.Count >= MaxCachedExpressions)
        {
            Parsed.Clear();
        }
        return Parsed.GetOrAdd(cron, CronExpression.Parse);
    }
}
