using System.Globalization;

namespace Kennel.ControlPlane.Http;

/// <summary>The times a query string or a tool argument names: a date (<c>2026-11-21</c>, midnight UTC) or an RFC 3339 time.</summary>
public static class Instants
{
    public const long DayMs = 86_400_000;

    /// <summary>Null for null; anything else that is not a date or a time is a 400 naming <paramref name="name"/>.</summary>
    public static DateTimeOffset? Parse(string name, string? value)
    {
        if (value is null)
        {
            return null;
        }
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        }
        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant)
            ? instant
            : throw ApiProblem.Invalid(name, $"{name} must be a date (2026-11-21) or an RFC 3339 time (2026-11-21T08:00:00Z).");
    }

    /// <summary>The UTC day a stored time (Unix ms) falls on, as <c>2026-11-21</c>.</summary>
    public static string Day(long dayNumber) =>
        DateTimeOffset.FromUnixTimeMilliseconds(dayNumber * DayMs).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
