namespace Kennel.ControlPlane.Scheduling;

/// <summary>When a schedule fires: a cron expression, one instant, or a fixed interval.</summary>
public interface IScheduleExpression
{
    /// <summary>The first instant strictly after <paramref name="after"/> at which it fires, or null when it never does again.</summary>
    DateTimeOffset? NextAfter(DateTimeOffset after, TimeZoneInfo zone);
}
