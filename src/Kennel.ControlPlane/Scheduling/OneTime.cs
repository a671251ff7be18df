using System.Globalization;

namespace Kennel.ControlPlane.Scheduling;

/// <summary>
/// A schedule that fires once, at an instant (a cron job's <c>at</c>). Stored as <c>@at</c> and the instant in Unix
/// milliseconds, so the scheduler's table holds every kind of schedule in one column.
/// </summary>
public sealed class OneTime(DateTimeOffset at) : IScheduleExpression
{
    private const string Prefix = "@at ";

    public DateTimeOffset At { get; } = at;

    public static string Format(DateTimeOffset at) => Prefix + at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>The instant of an <c>@at</c> text, or null for any other text.</summary>
    public static OneTime? TryParse(string text) =>
        text.StartsWith(Prefix, StringComparison.Ordinal)
        && long.TryParse(text.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? new OneTime(DateTimeOffset.FromUnixTimeMilliseconds(ms))
            : null;

    public DateTimeOffset? NextAfter(DateTimeOffset after, TimeZoneInfo zone) => At > after ? At : null;
}
