using System.Text.Json.Serialization;

namespace Kennel.Contracts.Conversations;

/// <summary>The body of <c>POST /v1/conversations/{id}/messages</c>.</summary>
public sealed record SendMessageRequest
{
    public required string Message { get; init; }
}

/// <summary>A run's place in its life: queued, running, then exactly one terminal state.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RunStatus>))]
public enum RunStatus
{
    [JsonStringEnumMemberName("queued")] Queued,
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("succeeded")] Succeeded,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("cancelled")] Cancelled,
    [JsonStringEnumMemberName("timed_out")] TimedOut,
}

public static class RunStatuses
{
    public static bool IsTerminal(this RunStatus status) => status >= RunStatus.Succeeded;

    public static string ToWire(this RunStatus status) => status switch
    {
        RunStatus.Queued => "queued",
        RunStatus.Running => "running",
        RunStatus.Succeeded => "succeeded",
        RunStatus.Failed => "failed",
        RunStatus.Cancelled => "cancelled",
        RunStatus.TimedOut => "timed_out",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static bool TryParse(string? wire, out RunStatus status)
    {
        foreach (var candidate in Enum.GetValues<RunStatus>())
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

public sealed record RunError(string Code, string Message);

/// <summary>One agent turn: the message it answers, where it stands, and its answer once it has one.</summary>
public sealed record Run
{
    public required string Id { get; init; }
    public required string ConversationId { get; init; }
    public required string Agent { get; init; }
    public required RunStatus Status { get; init; }
    public required string Message { get; init; }

    /// <summary>The final answer; for a run that was stopped, what had arrived by then.</summary>
    public string? Answer { get; init; }

    public RunError? Error { get; init; }

    /// <summary>How many times the model called tools in this turn.</summary>
    public required int ToolSteps { get; init; }

    public required TokenTotals Usage { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
}

public sealed record RunPage(IReadOnlyList<Run> Items, string? NextCursor);

/// <summary>The kinds of progress event a run sends while it works.</summary>
public static class RunEventKinds
{
    /// <summary>A piece of the answer's text as it arrives.</summary>
    public const string Text = "text";

    public const string ToolStart = "tool_start";
    public const string ToolEnd = "tool_end";
}

/// <summary>Progress of a run: the answer's text as it streams, and each tool call as it starts and ends.</summary>
public sealed record RunEvent
{
    public required string Kind { get; init; }
    public required string RunId { get; init; }
    public string? Text { get; init; }
    public string? CallId { get; init; }
    public string? Tool { get; init; }
    public bool? IsError { get; init; }
}
