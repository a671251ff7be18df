using System.Globalization;
using Cronos;
using CronosExpression = Cronos.CronExpression;

namespace Kennel.ControlPlane.Scheduling;

/// <summary>
/// A standard 5-field cron expression (minute, hour, day of month, month, day of week) or one of the macros
/// <c>@yearly</c>, <c>@annually</c>, <c>@monthly</c>, <c>@weekly</c>, <c>@daily</c>, <c>@midnight</c>, <c>@hourly</c>.
/// Cronos parses it and finds the wall-clock times it matches; <see cref="ZoneTransitions"/> turns those into instants.
/// What is here beyond that is where Kennel's documented behaviour differs from Cronos's (docs/architecture.md): a day
/// matches when either day field does, a backwards range is refused, <c>*</c> may stand in a list, a step longer than its
/// field gives the start of its range, and every error names the field at fault.
/// </summary>
public sealed class CronExpression : IScheduleExpression
{
    private static readonly string[] FieldNames = ["minute", "hour", "day-of-month", "month", "day-of-week"];
    private static readonly int[] FieldLows = [0, 0, 1, 1, 0];
    private static readonly int[] FieldHighs = [59, 23, 31, 12, 7];
    private static readonly string[][] FieldValueNames = [[], [], [], ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
        ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]];
    private static readonly string[] Macros = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];
    private const int DayOfMonth = 2;
    private const int DayOfWeek = 4;

    // One expression, or two when both day fields are restricted: Cronos then matches a day only if both fields do, Vixie
    // cron (and Kennel) if either does, which is the earlier of the day-of-month half and the day-of-week half.
    private readonly CronosExpression[] halves;

    // An expression that runs in every hour runs again in the hour a DST change repeats, as in any other hour. Cronos
    // writes a field that takes every value as * however it was given ("0-23", or all 24 hours listed).
    private readonly bool everyHour;

    private CronExpression(string text, CronosExpression[] halves)
    {
        Text = text;
        this.halves = halves;
        everyHour = halves[0].ToString().Split(' ')[1] == "*";
    }

    public string Text { get; }

    public static CronExpression Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.StartsWith('@'))
        {
            // Cronos also knows @every_minute and @every_second, which Kennel does not offer.
            return Macros.Contains(trimmed, StringComparer.OrdinalIgnoreCase)
                ? new CronExpression(trimmed, [CronosExpression.Parse(trimmed)])
                : throw new FormatException($"Unknown macro '{trimmed}'. Use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly.");
        }
        var fields = trimmed.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            throw new FormatException($"A cron expression has 5 fields (minute hour day-of-month month day-of-week), not {fields.Length}: '{trimmed}'.");
        }
        var eitherDay = !IsStar(fields[DayOfMonth]) && !IsStar(fields[DayOfWeek]);
        fields = [.. fields.Select(CheckField)];
        string Without(int field) => string.Join(' ', fields.Select((f, i) => i == field ? "*" : f));
        return new CronExpression(trimmed, eitherDay
            ? [CronosExpression.Parse(Without(DayOfWeek)), CronosExpression.Parse(Without(DayOfMonth))]
            : [CronosExpression.Parse(string.Join(' ', fields))]);
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
    public DateTimeOffset? NextAfter(DateTimeOffset after, TimeZoneInfo zone) =>
        ZoneTransitions.NextAfter(after, zone, NextWallClock, everyHour);

    /// <summary>The first matching wall-clock minute at or after <paramref name="start"/>, both written as UTC (no DST).</summary>
    private DateTime? NextWallClock(DateTime start) => halves.Select(h => h.GetNextOccurrence(start, inclusive: true)).Min();

    private static bool IsStar(string field) => field is "*" or "?";

    /// <summary>
    /// The field as Cronos should read it, or a <see cref="FormatException"/> naming it: for what Cronos refuses, or takes
    /// otherwise than Kennel documents, or reports without saying which field is wrong.
    /// </summary>
    private static string CheckField(string field, int index)
    {
        var name = FieldNames[index];
        var elements = field.Split(',');
        for (var i = 0; i < elements.Length; i++)
        {
            var element = elements[i];
            var slash = element.IndexOf('/', StringComparison.Ordinal);
            var range = slash < 0 ? element : element[..slash];
            if (range.Length == 0)
            {
                throw new FormatException(element.Length == 0
                    ? $"The {name} field '{field}' has an empty element in its list: remove the extra comma."
                    : $"The {name} field's '{element}' needs a value, a range or * before the /.");
            }
            var dash = range.IndexOf('-', 1);
            var start = IsStar(range) ? FieldLows[index].ToString(CultureInfo.InvariantCulture) : dash > 0 ? range[..dash] : range;
            if (dash > 0 && Value(start, index) is { } from && Value(range[(dash + 1)..], index) is { } to && to < from)
            {
                throw new FormatException($"The {name} range '{range}' runs backwards."); // Cronos would wrap around
            }
            if (IsStar(range) && elements.Length > 1)
            {
                elements[i] = $"{start}-{FieldHighs[index].ToString(CultureInfo.InvariantCulture)}{element[range.Length..]}"; // Cronos takes * only alone
            }
            if (slash < 0)
            {
                continue;
            }
            if (!int.TryParse(element.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var step) || step < 1)
            {
                throw new FormatException($"The {name} step '{element[(slash + 1)..]}' must be a positive number.");
            }
            if (step > FieldHighs[index] - FieldLows[index])
            {
                Refuse(range, index);
                elements[i] = start; // the one value such a step gives; Cronos refuses the step
            }
        }
        var checkedField = string.Join(',', elements);
        Refuse(checkedField, index);
        return checkedField;
    }

    /// <summary>A field's value written as a number or a name, or null for anything else (which Cronos then judges).</summary>
    private static int? Value(string text, int index)
    {
        var named = Array.FindIndex(FieldValueNames[index], n => n.Equals(text, StringComparison.OrdinalIgnoreCase));
        return named >= 0 ? named + FieldLows[index]
            : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    /// <summary>Throws, naming the field, if Cronos refuses <paramref name="field"/> in an expression otherwise all *.</summary>
    private static void Refuse(string field, int index)
    {
        try
        {
            CronosExpression.Parse(string.Join(' ', FieldNames.Select((_, i) => i == index ? field : "*")));
        }
        catch (Exception refused) when (refused is CronFormatException or MissingSeedException)
        {
            // Cronos says "The given cron expression has an invalid format. Minutes: Value must be …"; keep the reason.
            var label = refused.Message.IndexOf(": ", StringComparison.Ordinal);
            var reason = refused is MissingSeedException ? "H (a hashed value) is not supported; give the value itself."
                : label < 0 ? refused.Message : refused.Message[(label + 2)..];
            throw new FormatException($"The {FieldNames[index]} field '{field}' is not valid: {reason}", refused);
        }
    }
}
