using Kennel.Contracts.Conversations;

namespace Kennel.ControlPlane.Runs;

/// <summary>A <c>runs</c> row as the store reads it.</summary>
public sealed class RunRow
{
    public string Id { get; set; } = "";
    public string WorkspaceId { get; set; } = "";
    public string ConversationId { get; set; } = "";
    public string Agent { get; set; } = "";
    public string Status { get; set; } = "";
    public string Message { get; set; } = "";
    public string? Answer { get; set; }
    public string? ErrorCode { get; set; }
    public string? ErrorMessage { get; set; }
    public int ToolSteps { get; set; }
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    public long CacheReadTokens { get; set; }
    public long CacheWriteTokens { get; set; }
    public long CreatedAt { get; set; }
    public long? StartedAt { get; set; }
    public long? EndedAt { get; set; }
    public string? Owner { get; set; }
    public long? LeaseExpiresAt { get; set; }
    public long? CancelRequestedAt { get; set; }

    /// <summary>This run's own turn timeout, replacing the installation's (<see cref="RunLimits"/>); null for the installation's.</summary>
    public long? TimeoutMs { get; set; }

    /// <summary>The most tokens this run's turn may use (<see cref="Kennel.Agents.Runtime.TurnLimits.TokenBudget"/>); null for no budget.</summary>
    public long? TokenBudget { get; set; }

    /// <summary>The tokens the run's committed model calls used so far.</summary>
    public Kennel.Agents.Providers.TokenUsage Used => new(InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens);

    public RunStatus ParsedStatus => RunStatuses.TryParse(Status, out var status)
        ? status
        : throw new InvalidOperationException($"Run {Id} has an unknown status '{Status}' in the store.");

    public Run ToContract() => new()
    {
        Id = Id,
        ConversationId = ConversationId,
        Agent = Agent,
        Status = ParsedStatus,
        Message = Message,
        Answer = Answer,
        Error = ErrorCode is { } code ? new RunError(code, ErrorMessage ?? "") : null,
        ToolSteps = ToolSteps,
        Usage = new TokenTotals(InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
        StartedAt = StartedAt is { } started ? DateTimeOffset.FromUnixTimeMilliseconds(started) : null,
        EndedAt = EndedAt is { } ended ? DateTimeOffset.FromUnixTimeMilliseconds(ended) : null,
    };
}

/// <summary>How a run ended, as the executor records it.</summary>
public sealed record RunOutcome(RunStatus Status, string? Answer, RunError? Error);
