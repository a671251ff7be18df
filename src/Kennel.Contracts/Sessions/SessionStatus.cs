using System.Text.Json.Serialization;

namespace Kennel.Contracts.Sessions;

/// <summary>A session's place in its life: pending, running, then exactly one terminal state.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SessionStatus>))]
public enum SessionStatus
{
    [JsonStringEnumMemberName("pending")] Pending,
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("succeeded")] Succeeded,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("timed_out")] TimedOut,
    [JsonStringEnumMemberName("cancelled")] Cancelled,
}

public static class SessionStatuses
{
    public static bool IsTerminal(this SessionStatus status) => status >= SessionStatus.Succeeded;

    public static string ToWire(this SessionStatus status) => status switch
    {
        SessionStatus.Pending => "pending",
        SessionStatus.Running => "running",
        SessionStatus.Succeeded => "succeeded",
        SessionStatus.Failed => "failed",
        SessionStatus.TimedOut => "timed_out",
        SessionStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static bool TryParse(string? wire, out SessionStatus status)
    {
        foreach (var candidate in Enum.GetValues<SessionStatus>())
        {
            if (string.Equals(candidate.ToWire(), wire, StringComparison.Ordinal))
            {
                status = candidate;
                return true;
            }
        }
        status = default;
        return false;
    }
}
