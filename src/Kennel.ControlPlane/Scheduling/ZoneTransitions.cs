namespace Kennel.ControlPlane.Scheduling;

/// <summary>
/// Turns a schedule's wall-clock times into instants in an IANA zone across its DST changes: a time the clock skips fires
/// when it jumps, and a time it repeats fires once, in the first pass, unless the schedule runs in every hour. Kennel's,
/// not Cronos's: Cronos's own zone stepping runs fixed-hour steps ("*/15 2 * * *") twice in a repeated hour, and in zones
/// whose DST is negative in tzdata (Europe/Dublin, Africa/Casablanca) answers times the expression does not match, or
/// the same instant again and again.
/// </summary>
public static class ZoneTransitions
{
    /// <summary>
    /// The first instant strictly after <paramref name="after"/> whose wall-clock time in <paramref name="zone"/> matches:
    /// <paramref name="nextWallClock"/> gives the first matching wall-clock minute at or after the one given (both written
    /// as UTC DateTimes, which know no DST), or null for none.
    /// </summary>
    public static DateTimeOffset? NextAfter(DateTimeOffset after, TimeZoneInfo zone, Func<DateTime, DateTime?> nextWallClock, bool everyHour)
    {
        ArgumentNullException.ThrowIfNull(zone);
        ArgumentNullException.ThrowIfNull(nextWallClock);
        var cursor = new DateTime(after.UtcTicks - (after.UtcTicks % TimeSpan.TicksPerMinute), DateTimeKind.Utc).AddMinutes(1);
        for (var guard = 0; guard < 1000; guard++)
        {
            var offset = zone.GetUtcOffset(cursor);
            if (nextWallClock(cursor + offset) is not { } candidate)
            {
                return null;
            }
            var candidateUtc = candidate - offset;
            if (zone.GetUtcOffset(candidateUtc) == offset)
            {
                if (!everyHour && InRepeatedHour(zone, candidate, candidateUtc, offset))
                {
                    cursor = candidateUtc.AddMinutes(1); // a fixed-time run already fired in the first pass
                    continue;
                }
                return new DateTimeOffset(candidateUtc);
            }
            // The offset changes before the candidate: go on from the change.
            var change = FirstChange(zone, cursor, candidateUtc, offset);
            var newOffset = zone.GetUtcOffset(change);
            if (newOffset > offset && candidate < change + newOffset)
            {
                return new DateTimeOffset(change); // the wall-clock time was skipped: fire when the clock jumps
            }
            cursor = change;
        }
        return null;
    }

    /// <summary>
    /// Whether the wall-clock time <paramref name="local"/>, shown at <paramref name="utc"/> under <paramref name="offset"/>,
    /// was shown before under a larger offset of the last three hours: the second pass through a time a DST change repeats.
    /// From offsets, because <see cref="TimeZoneInfo.IsAmbiguousTime(DateTime)"/> misses the repeated hour of a zone whose
    /// DST is negative.
    /// </summary>
    private static bool InRepeatedHour(TimeZoneInfo zone, DateTime local, DateTime utc, TimeSpan offset)
    {
        for (var halfHours = 1; halfHours <= 6; halfHours++)
        {
            var earlier = zone.GetUtcOffset(utc.AddMinutes(-30 * halfHours));
            if (earlier > offset && zone.GetUtcOffset(local - earlier) == earlier)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The first minute in (from, to] whose UTC offset is not <paramref name="offset"/>.</summary>
    private static DateTime FirstChange(TimeZoneInfo zone, DateTime from, DateTime to, TimeSpan offset)
    {
        // Walk a day at a time to the first day that changes, then halve the interval down to the minute.
        var low = from;
        while (low.AddDays(1) < to && zone.GetUtcOffset(low.AddDays(1)) == offset)
        {
            low = low.AddDays(1);
        }
        var high = low.AddDays(1) < to ? low.AddDays(1) : to;
        while ((high - low) > TimeSpan.FromMinutes(1))
        {
            var middle = low + TimeSpan.FromMinutes(Math.Floor((high - low).TotalMinutes / 2));
            if (zone.GetUtcOffset(middle) == offset)
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }
        return high;
    }
}
