using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Scheduling;

/// <summary>Checks a cron expression and its time zone at the edge, for daemons and cron jobs alike; errors name the field.</summary>
public static class ScheduleValidation
{
    public const int MaxCronLength = 200;

    /// <summary>The expression as stored and the zone's id, or an <see cref="ApiProblem"/> naming the field at fault.</summary>
    public static (string Cron, string Timezone) Cron(string? cron, string? timezone, string cronField, string timezoneField)
    {
        if (string.IsNullOrWhiteSpace(cron))
        {
            throw ApiProblem.Invalid(cronField, $"{cronField} is required: 5 fields (minute hour day-of-month month day-of-week) or a macro such as @hourly.");
        }
        if (cron.Length > MaxCronLength)
        {
            throw ApiProblem.Invalid(cronField, $"{cronField} must be at most {MaxCronLength} characters.");
        }
        if (!CronExpression.TryParse(cron, out var expression, out var error))
        {
            throw ApiProblem.Invalid(cronField, error!);
        }
        var zoneId = timezone ?? Schedules.DefaultTimezone;
        var zone = Schedules.FindZone(zoneId) ?? throw ApiProblem.Invalid(timezoneField,
            $"'{zoneId}' is not a known IANA time zone; use a name such as Europe/Berlin, America/New_York or UTC.");
        if (expression!.NextAfter(DateTimeOffset.UnixEpoch, zone) is null)
        {
            throw ApiProblem.Invalid(cronField, $"'{cron}' never fires (no such date).");
        }
        return (expression.Text, zoneId);
    }
}
