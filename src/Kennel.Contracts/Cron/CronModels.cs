using System.Text.Json.Serialization;
using Kennel.Contracts.Conversations;
using Kennel.Contracts.Sessions;

namespace Kennel.Contracts.Cron;

/// <summary>When a job runs. <see cref="Kind"/> is <c>cron</c> (<see cref="Expr"/> in <see cref="Tz"/>), <c>at</c> (<see cref="At"/>) or <c>every</c>.</summary>
public sealed record CronSchedule
{
    public required string Kind { get; init; }

    /// <summary>For <c>cron</c>: 5 fields (minute hour day-of-month month day-of-week) or a macro such as <c>@daily</c>.</summary>
    public string? Expr { get; init; }

    /// <summary>For <c>cron</c>: an IANA time zone; UTC when absent.</summary>
    public string? Tz { get; init; }

    /// <summary>For <c>at</c>: an ISO 8601 instant, UTC when it has no offset.</summary>
    public string? At { get; init; }

    /// <summary>For <c>every</c>: the interval as a duration (<c>30m</c>, <c>1h30m</c>, <c>PT30M</c>), at least a minute.</summary>
    public string? Every { get; init; }

    /// <summary>For <c>every</c>: the interval in milliseconds, instead of <see cref="Every"/>.</summary>
    public long? EveryMs { get; init; }

    /// <summary>For <c>every</c>: the instant the intervals count from (the job's creation).</summary>
    public DateTimeOffset? Anchor { get; init; }
}

/// <summary>
/// What a run does. <c>agentTurn</c>: <see cref="Message"/> to the job's agent, in a fresh conversation per run, or in
/// the one named by <see cref="Conversation"/>. <c>workload</c>: a sandbox session, as a daemon's.
/// </summary>
public sealed record CronPayload
{
    public required string Kind { get; init; }
    public string? Message { get; init; }

    /// <summary>A conversation key of the agent (such as <c>main</c>) to run in; absent: a fresh, isolated conversation each run.</summary>
    public string? Conversation { get; init; }

    public string? Snapshot { get; init; }
    public string? Script { get; init; }
    public IReadOnlyList<string>? Command { get; init; }
    public IReadOnlyDictionary<string, string>? Env { get; init; }
    public IReadOnlyList<string>? Secrets { get; init; }
    public SessionResources? Resources { get; init; }
}

/// <summary>
/// Where a run's result goes: <c>none</c>, <c>webhook</c> (a signed POST to <see cref="Url"/>) or <c>channel</c> (a
/// message to <see cref="Chat"/>, in <see cref="Thread"/> if given, of the workspace's channel <see cref="Channel"/>).
/// </summary>
public sealed record CronDelivery
{
    public required string Mode { get; init; }
    public string? Url { get; init; }
    public string? Channel { get; init; }
    public string? Chat { get; init; }
    public string? Thread { get; init; }
}

/// <summary>A run's bounds: past the timeout it ends <c>timed_out</c>; past the token budget, <c>budget_exceeded</c>.</summary>
public sealed record CronLimits
{
    public int? TimeoutSeconds { get; init; }
    public long? TokenBudget { get; init; }
}

/// <summary>The body of <c>POST /v1/cron</c> and the arguments of <c>cron_add</c>.</summary>
public sealed record CreateCronJobRequest
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public string? Agent { get; init; }
    public bool? Enabled { get; init; }
    public CronSchedule? Schedule { get; init; }
    public CronPayload? Payload { get; init; }
    public CronDelivery? Delivery { get; init; }
    public CronLimits? Limits { get; init; }

    /// <summary><c>skip</c> (the default): a run falling due while the last is going is recorded as skipped; <c>queue</c>: it waits its turn.</summary>
    public string? Overlap { get; init; }

    /// <summary>For an <c>at</c> job: removed after it runs, rather than disabled.</summary>
    public bool? DeleteAfterRun { get; init; }
}

/// <summary>The body of <c>PATCH /v1/cron/{id}</c>.</summary>
public sealed record UpdateCronJobRequest
{
    public bool? Enabled { get; init; }
}

/// <summary>Where a job stands.</summary>
public sealed record CronJobState
{
    public DateTimeOffset? NextRunAt { get; init; }
    public DateTimeOffset? LastRunAt { get; init; }
    public string? LastStatus { get; init; }
    public string? LastError { get; init; }
    public int ConsecutiveErrors { get; init; }

    /// <summary>While set and in the future, runs that fall due are skipped: the job is backing off after failures.</summary>
    public DateTimeOffset? BackoffUntil { get; init; }

    /// <summary>The run going now, if any.</summary>
    public string? RunningRunId { get; init; }
}

public sealed record CronJob
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public string? Description { get; init; }
    public string? Agent { get; init; }
    public required bool Enabled { get; init; }
    public required CronSchedule Schedule { get; init; }
    public required CronPayload Payload { get; init; }
    public required CronDelivery Delivery { get; init; }
    public required CronLimits Limits { get; init; }
    public required string Overlap { get; init; }
    public bool DeleteAfterRun { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public required CronJobState State { get; init; }
}

/// <summary>A job just created: with the next runs its schedule gives, and its webhook secret, shown this once.</summary>
public sealed record CreatedCronJob
{
    public required CronJob Job { get; init; }
    public required IReadOnlyList<DateTimeOffset> NextRuns { get; init; }
    public string? WebhookSecret { get; init; }
}

public sealed record CronJobPage(IReadOnlyList<CronJob> Items, string? NextCursor);

public sealed record RemovedCronJob(string Id, bool Removed);

/// <summary>A delivery's outcome: <c>none</c>, <c>pending</c>, <c>delivered</c> or <c>failed</c>.</summary>
public sealed record CronRunDelivery
{
    public required string Status { get; init; }
    public int Attempts { get; init; }
    public string? Error { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }
}

/// <summary>
/// One firing of a job. <see cref="Status"/>: <c>queued</c> (waiting for the job's last run), <c>running</c>, then
/// <c>succeeded</c>, <c>failed</c>, <c>timed_out</c>, <c>budget_exceeded</c>, <c>cancelled</c> or <c>skipped</c>.
/// <see cref="Trigger"/>: <c>schedule</c>, <c>catch_up</c> (for runs missed while no control plane was up) or <c>manual</c>.
/// </summary>
public sealed record CronRun
{
    public required string Id { get; init; }
    public required string JobId { get; init; }
    public required string JobName { get; init; }
    public required string Trigger { get; init; }
    public DateTimeOffset? ScheduledFor { get; init; }
    public required string Status { get; init; }
    public RunError? Error { get; init; }
    public string? ConversationId { get; init; }
    public string? RunId { get; init; }
    public string? SessionId { get; init; }
    public TokenTotals? Usage { get; init; }
    public decimal? CostUsd { get; init; }
    public CronRunDelivery? Delivery { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
}

public sealed record CronRunPage(IReadOnlyList<CronRun> Items, string? NextCursor);

/// <summary>The body of a cron job's webhook delivery.</summary>
public sealed record CronRunFinished
{
    public required string Type { get; init; }
    public required CronRun Run { get; init; }

    /// <summary>The agent's final answer, for an agent turn.</summary>
    public string? Answer { get; init; }

    /// <summary>The workload's exit code, for a sandbox workload.</summary>
    public int? ExitCode { get; init; }
}
