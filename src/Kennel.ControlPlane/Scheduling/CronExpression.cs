using System.Globalization;

namespace Kennel.ControlPlane.Scheduling;

/// <summary>
/// A standard 5-field cron expression (minute, hour, day of month, month, day of week) or one of the macros
/// <c>@yearly</c>, <c>@annually</c>, <c>@monthly</c>, <c>@weekly</c>, <c>@daily</c>, <c>@midnight</c>, <c>@hourly</c>.
/// Fields take <c>*</c>, numbers, ranges <c>a-b</c>, steps <c>*/n</c> and <c>a-b/n</c>, lists, and names (JAN-DEC,
/// SUN-SAT; 7 is Sunday too). As in Vixie cron, when both day fields are restricted a day matching either runs.
/// </summary>
public sealed class CronExpression
{
    private readonly ulong minutes;
    private readonly uint hours;
    private readonly uint daysOfMonth;
    private readonly ushort months;
    private readonly byte daysOfWeek;
    private readonly bool dayOfMonthRestricted;
    private readonly bool dayOfWeekRestricted;

    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    private CronExpression(string text, ulong minutes, uint hours, uint daysOfMonth, ushort months, byte daysOfWeek, bool domRestricted, bool dowRestricted)
    {
        Text = text;
        this.minutes = minutes;
        this.hours = hours;
        this.daysOfMonth = daysOfMonth;
        this.months = months;
        this.daysOfWeek = daysOfWeek;
        dayOfMonthRestricted = domRestricted;
        dayOfWeekRestricted = dowRestricted;
    }

    public string Text { get; }

    /// <summary>
    /// True when the expression runs in every hour. Such a schedule runs again in the hour a DST change repeats, as it
    /// would in any other hour; one at fixed hours runs once there, as people expect of "every day at 02:30".
    /// </summary>
    private bool EveryHour => hours == (1u << 24) - 1;

    public static CronExpression Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        var expanded = trimmed.ToLowerInvariant() switch
        {
            "@yearly" or "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" or "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            var other when other.StartsWith('@') => throw new FormatException(
                $"Unknown macro '{trimmed}'. Use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly."),
            _ => trimmed,
        };
        var fields = expanded.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            throw new FormatException($"A cron expression has 5 fields (minute hour day-of-month month day-of-week), not {fields.Length}: '{trimmed}'.");
        }
        var minutes = ParseField(fields[0], "minute", 0, 59, null);
        var hours = ParseField(fields[1], "hour", 0, 23, null);
        var doms = ParseField(fields[2], "day-of-month", 1, 31, null);
        var months = ParseField(fields[3], "month", 1, 12, MonthNames);
        var dows = ParseField(fields[4], "day-of-week", 0, 7, DayNames);
        if ((dows & (1UL << 7)) != 0)
        {
            dows = (dows | 1) & ~(1UL << 7); // 7 is Sunday too
        }
        return new CronExpression(trimmed, minutes, (uint)hours, (uint)doms, (ushort)months, (byte)dows,
            !IsStar(fields[2]), !IsStar(fields[4]));
    }

    public static bool TryParse(string text, out CronExpression? expression, out string? error)
    {
        try
        {
            expression = Parse(text);
            error = null;
            return true;
        }
        catch (FormatException format)
        {
            expression = null;
            error = format.Message;
            return false;
        }
    }

    /// <summary>
    /// The first instant strictly after <paramref name="after"/> at which the expression fires in <paramref name="zone"/>,
    /// or null if it never does (such as February 30th). A wall-clock time that a DST change skips fires at the change;
    /// a time that a DST change repeats fires once (or twice, for an expression that runs every hour).
    /// </summary>
    public DateTimeOffset? NextAfter(DateTimeOffset after, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var cursor = new DateTime(after.UtcTicks - (after.UtcTicks % TimeSpan.TicksPerMinute), DateTimeKind.Utc).AddMinutes(1);
        for (var guard = 0; guard < 1000; guard++)
        {
            var offset = zone.GetUtcOffset(cursor);
            var local = DateTime.SpecifyKind(cursor + offset, DateTimeKind.Unspecified);
            if (NextLocal(local) is not { } candidate)
            {
                return null;
            }
            var candidateUtc = DateTime.SpecifyKind(candidate - offset, DateTimeKind.Utc);
            if (zone.GetUtcOffset(candidateUtc) == offset)
            {
                if (!EveryHour && InRepeatedHour(zone, candidate, offset))
                {
                    cursor = candidateUtc.AddMinutes(1); // a fixed-time run already fired in the first pass
                    continue;
                }
                return new DateTimeOffset(candidateUtc);
            }
            // The offset changes before the candidate: go on from the change.
            var change = FirstChange(zone, cursor, candidateUtc, offset);
            var newOffset = zone.GetUtcOffset(change);
            if (newOffset > offset && candidate < DateTime.SpecifyKind(change + newOffset, DateTimeKind.Unspecified))
            {
                return new DateTimeOffset(change); // the wall-clock time was skipped: fire when the clock jumps
            }
            cursor = change;
        }
        return null;
    }

    /// <summary>Whether <paramref name="local"/> at <paramref name="offset"/> is the second pass through a repeated hour.</summary>
    private static bool InRepeatedHour(TimeZoneInfo zone, DateTime local, TimeSpan offset) =>
        zone.IsAmbiguousTime(local) && offset < zone.GetAmbiguousTimeOffsets(local).Max();

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

    /// <summary>The first wall-clock minute at or after <paramref name="start"/> that matches, searching up to 8 years ahead.</summary>
    private DateTime? NextLocal(DateTime start)
    {
        var day = start.Date;
        var end = day.AddYears(8);
        var fromMinute = start.Hour * 60 + start.Minute;
        for (; day < end; day = day.AddDays(1), fromMinute = 0)
        {
            if ((months & (1 << day.Month)) == 0)
            {
                day = new DateTime(day.Year, day.Month, 1, 0, 0, 0, DateTimeKind.Unspecified).AddMonths(1).AddDays(-1);
                continue;
            }
            if (!DayMatches(day))
            {
                continue;
            }
            for (var hour = fromMinute / 60; hour < 24; hour++)
            {
                if ((hours & (1u << hour)) == 0)
                {
                    continue;
                }
                var first = hour == fromMinute / 60 ? fromMinute % 60 : 0;
                var remaining = minutes >> first;
                if (remaining != 0)
                {
                    return day.AddHours(hour).AddMinutes(first + System.Numerics.BitOperations.TrailingZeroCount(remaining));
                }
            }
        }
        return null;
    }

    private bool DayMatches(DateTime day)
    {
        var dom = (daysOfMonth & (1u << day.Day)) != 0;
        var dow = (daysOfWeek & (1 << (int)day.DayOfWeek)) != 0;
        return dayOfMonthRestricted && dayOfWeekRestricted ? dom || dow : dom && dow;
    }

    private static bool IsStar(string field) => field == "*" || field == "?";

    private static ulong ParseField(string field, string name, int min, int max, string[]? names)
    {
        ulong bits = 0;
        foreach (var part in field.Split(','))
        {
            var (range, step) = SplitStep(part, name);
            if (range.Length == 0)
            {
                throw new FormatException(part.Length == 0
                    ? $"The {name} field '{field}' has an empty element in its list: remove the extra comma."
                    : $"The {name} field's '{part}' needs a value, a range or * before the /.");
            }
            int low, high;
            if (range is "*" or "?")
            {
                (low, high) = (min, max);
            }
            else if (range.IndexOf('-', 1) is var dash and > 0)
            {
                low = Value(range[..dash], name, min, max, names);
                high = Value(range[(dash + 1)..], name, min, max, names);
                if (high < low)
                {
                    throw new FormatException($"The {name} range '{range}' runs backwards.");
                }
            }
            else
            {
                low = Value(range, name, min, max, names);
                high = step > 1 ? max : low; // "5/15" means from 5 to the end, every 15
            }
            // long: a step near int.MaxValue must end the loop, not overflow back into the range.
            for (long value = low; value <= high; value += step)
            {
                bits |= 1UL << (int)value;
            }
        }
        return bits;
    }

    private static (string Range, int Step) SplitStep(string part, string name)
    {
        var slash = part.IndexOf('/');
        if (slash < 0)
        {
            return (part, 1);
        }
        var stepText = part[(slash + 1)..];
        if (!int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out var step) || step < 1)
        {
            throw new FormatException($"The {name} step '{stepText}' must be a positive number.");
        }
        return (part[..slash], step);
    }

    private static int Value(string text, string name, int min, int max, string[]? names)
    {
        if (names is not null)
        {
            var index = Array.FindIndex(names, n => n.Equals(text, StringComparison.OrdinalIgnoreCase));
            if (index >= 0)
            {
                return index + min;
            }
        }
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new FormatException($"The {name} field takes {min}-{max}{(names is null ? "" : " or a name")}, not '{text}'.");
        }
        return value;
    }
}
