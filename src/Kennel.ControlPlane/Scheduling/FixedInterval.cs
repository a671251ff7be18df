using System.Globalization;

namespace Kennel.ControlPlane.Scheduling;

/// <summary>
/// A schedule that fires every <see cref="Interval"/>, at the anchor plus a whole number of intervals (a cron job's
/// <c>every</c>, anchored to its creation), whatever the time zone. Stored as <c>@every</c>, the interval and the anchor
/// in milliseconds.
/// </summary>
public sealed class FixedInterval(TimeSpan interval, DateTimeOffset anchor) : IScheduleExpression
{
    private const string Prefix = "@every ";

    public TimeSpan Interval { get; } = interval > TimeSpan.Zero ? interval : throw new ArgumentOutOfRangeException(nameof(interval));

    public DateTimeOffset Anchor { get; } = anchor;

    public static string Format(TimeSpan interval, DateTimeOffset anchor) => string.Create(CultureInfo.InvariantCulture,
        $"{Prefix}{(long)interval.TotalMilliseconds} {anchor.ToUnixTimeMilliseconds()}");

    /// <summary>The interval and anchor of an <c>@every</c> text, or null for any other text.</summary>
    public static FixedInterval? TryParse(string text)
    {
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var parts = text[Prefix.Length..].Split(' ');
        return parts.Length == 2
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0
            && long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var anchor)
                ? new FixedInterval(TimeSpan.FromMilliseconds(ms), DateTimeOffset.FromUnixTimeMilliseconds(anchor))
                : null;
    }

    public DateTimeOffset? NextAfter(DateTimeOffset after, TimeZoneInfo zone)
    {
        if (after < Anchor)
        {
            return Anchor;
        }
        var steps = (after - Anchor).Ticks / Interval.Ticks + 1;
        return Anchor + TimeSpan.FromTicks(steps * Interval.Ticks);
    }
}
