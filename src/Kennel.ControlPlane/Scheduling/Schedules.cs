namespace Kennel.ControlPlane.Scheduling;

/// <summary>Checks and evaluates schedule definitions: cron expression, IANA time zone and catch-up policy.</summary>
public static class Schedules
{
    public const string DefaultTimezone = "UTC";

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
        CronExpression.Parse(schedule.Cron).NextAfter(after, FindZone(schedule.Timezone)
            ?? throw new InvalidOperationException($"Schedule {schedule.Id} has an unknown time zone '{schedule.Timezone}'."));
}
