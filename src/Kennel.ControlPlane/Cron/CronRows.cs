using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Conversations;
using Kennel.Contracts.Cron;

namespace Kennel.ControlPlane.Cron;

/// <summary>A <c>cron_jobs</c> row as the store reads it.</summary>
public sealed class CronJobRow
{
    public string Id { get; set; } = "";
    public string WorkspaceId { get; set; } = "";
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    public string? Agent { get; set; }
    public long Enabled { get; set; }
    public string Schedule { get; set; } = "";
    public string Payload { get; set; } = "";
    public string Delivery { get; set; } = "";
    public string? WebhookSecret { get; set; }
    public long TimeoutMs { get; set; }
    public long? TokenBudget { get; set; }
    public string Overlap { get; set; } = "";
    public long DeleteAfterRun { get; set; }
    public long ConsecutiveErrors { get; set; }
    public long? BackoffUntil { get; set; }
    public long? LastRunAt { get; set; }
    public string? LastStatus { get; set; }
    public string? LastError { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }

    public CronSchedule ParsedSchedule => JsonSerializer.Deserialize(Schedule, KennelJson.Default.CronSchedule)!;

    public CronPayload ParsedPayload => JsonSerializer.Deserialize(Payload, KennelJson.Default.CronPayload)!;

    public CronDelivery ParsedDelivery => JsonSerializer.Deserialize(Delivery, KennelJson.Default.CronDelivery)!;

    public CronJob ToContract(DateTimeOffset? nextRunAt, string? runningRunId) => new()
    {
        Id = Id,
        Name = Name,
        Description = Description,
        Agent = Agent,
        Enabled = Enabled != 0,
        Schedule = ParsedSchedule,
        Payload = ParsedPayload,
        Delivery = ParsedDelivery,
        Limits = new CronLimits { TimeoutSeconds = (int)(TimeoutMs / 1000), TokenBudget = TokenBudget },
        Overlap = Overlap,
        DeleteAfterRun = DeleteAfterRun != 0,
        CreatedAt = Instant(CreatedAt),
        UpdatedAt = Instant(UpdatedAt),
        State = new CronJobState
        {
            NextRunAt = nextRunAt,
            LastRunAt = LastRunAt is { } last ? Instant(last) : null,
            LastStatus = LastStatus,
            LastError = LastError,
            ConsecutiveErrors = (int)ConsecutiveErrors,
            BackoffUntil = BackoffUntil is { } until ? Instant(until) : null,
            RunningRunId = runningRunId,
        },
    };

    internal static DateTimeOffset Instant(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}

/// <summary>A <c>cron_runs</c> row as the store reads it.</summary>
public sealed class CronRunRow
{
    public string Id { get; set; } = "";
    public string WorkspaceId { get; set; } = "";
    public string JobId { get; set; } = "";
    public string JobName { get; set; } = "";
    public string TriggerType { get; set; } = "";
    public long? ScheduledFor { get; set; }
    public string Status { get; set; } = "";
    public string Delivery { get; set; } = CronValues.DeliveryNone;
    public string? ErrorCode { get; set; }
    public string? ErrorMessage { get; set; }
    public string? ConversationId { get; set; }
    public string? RunId { get; set; }
    public string? SessionId { get; set; }
    public long? InputTokens { get; set; }
    public long? OutputTokens { get; set; }
    public long? CacheReadTokens { get; set; }
    public long? CacheWriteTokens { get; set; }
    public long? CostNanoUsd { get; set; }
    public long CreatedAt { get; set; }
    public long? StartedAt { get; set; }
    public long? EndedAt { get; set; }

    public CronRun ToContract(CronRunDelivery? delivery) => new()
    {
        Id = Id,
        JobId = JobId,
        JobName = JobName,
        Trigger = TriggerType,
        ScheduledFor = ScheduledFor is { } due ? CronJobRow.Instant(due) : null,
        Status = Status,
        Error = ErrorCode is { } code ? new RunError(code, ErrorMessage ?? "") : null,
        ConversationId = ConversationId,
        RunId = RunId,
        SessionId = SessionId,
        Usage = InputTokens is { } input ? new TokenTotals(input, OutputTokens ?? 0, CacheReadTokens ?? 0, CacheWriteTokens ?? 0) : null,
        CostUsd = CostNanoUsd is { } nano ? nano / 1_000_000_000m : null,
        Delivery = delivery,
        CreatedAt = CronJobRow.Instant(CreatedAt),
        StartedAt = StartedAt is { } started ? CronJobRow.Instant(started) : null,
        EndedAt = EndedAt is { } ended ? CronJobRow.Instant(ended) : null,
    };
}
