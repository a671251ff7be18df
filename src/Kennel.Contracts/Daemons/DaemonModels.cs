using System.Text.Json;
using Kennel.Contracts.Sessions;

namespace Kennel.Contracts.Daemons;

/// <summary>The body of <c>POST /v1/daemons</c>: the whole definition of a daemon.</summary>
public sealed record CreateDaemonRequest
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public string? Snapshot { get; init; }
    public DaemonWorkload? Workload { get; init; }
    public SessionResources? Resources { get; init; }
    public long? TimeoutMs { get; init; }
    public DaemonTriggerRequest? Trigger { get; init; }
    public string? Concurrency { get; init; }
    public string? Status { get; init; }

    /// <summary>Each run's network, as a session's; none by default.</summary>
    public SessionNetwork? Network { get; init; }
}

/// <summary>The body of <c>PATCH /v1/daemons/{name}</c>: only the fields given change. A new trigger replaces the old one whole.</summary>
public sealed record UpdateDaemonRequest
{
    public string? Description { get; init; }
    public string? Snapshot { get; init; }
    public DaemonWorkload? Workload { get; init; }
    public SessionResources? Resources { get; init; }
    public long? TimeoutMs { get; init; }
    public DaemonTriggerRequest? Trigger { get; init; }
    public string? Concurrency { get; init; }
    public string? Status { get; init; }

    /// <summary>Each run's network, as a session's; none by default.</summary>
    public SessionNetwork? Network { get; init; }
}

/// <summary>What each run executes. Exactly one of <see cref="Script"/> and <see cref="Command"/>.</summary>
public sealed record DaemonWorkload
{
    public string? Script { get; init; }
    public IReadOnlyList<string>? Command { get; init; }
    public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary>Names of workspace secrets each run sees as env vars, resolved when the run starts; never their values.</summary>
    public IReadOnlyList<string>? Secrets { get; init; }
}

/// <summary>
/// A trigger as written: <c>{type: "webhook", signature, secret, header}</c> or <c>{type: "schedule", cron, timezone,
/// catchUp}</c>.
/// </summary>
public sealed record DaemonTriggerRequest
{
    public string? Type { get; init; }
    public string? Signature { get; init; }
    public string? Secret { get; init; }
    public string? Header { get; init; }
    public string? Cron { get; init; }
    public string? Timezone { get; init; }
    public string? CatchUp { get; init; }
}

/// <summary>A trigger as every API shows it: never the secret, only whether one is set.</summary>
public sealed record DaemonTrigger
{
    public required string Type { get; init; }
    public string? Signature { get; init; }
    public string? Header { get; init; }
    public bool? SecretSet { get; init; }

    /// <summary>True for a webhook whose signature is <c>none</c>: anyone who knows the URL can start it.</summary>
    public bool? Unauthenticated { get; init; }

    public string? WebhookPath { get; init; }
    public string? Cron { get; init; }
    public string? Timezone { get; init; }
    public string? CatchUp { get; init; }
    public DateTimeOffset? NextRunAt { get; init; }
}

public sealed record Daemon
{
    public required string Name { get; init; }
    public required string Workspace { get; init; }
    public required string Description { get; init; }
    public required string Snapshot { get; init; }
    public required DaemonWorkload Workload { get; init; }
    public required SessionResources Resources { get; init; }
    public required long TimeoutMs { get; init; }

    /// <summary>Each run's network: mode <c>none</c> unless given.</summary>
    public required SessionNetwork Network { get; init; }
    public required DaemonTrigger Trigger { get; init; }
    public required string Concurrency { get; init; }
    public required string Status { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>With <c>GET /v1/daemons/{name}</c> only: the newest sessions it started.</summary>
    public IReadOnlyList<DaemonSessionSummary>? RecentSessions { get; init; }

    /// <summary>With <c>GET /v1/daemons/{name}</c> only: everything it ever ran.</summary>
    public DaemonTotals? Totals { get; init; }
}

public sealed record DaemonSessionSummary
{
    public required string Id { get; init; }
    public required SessionStatus Status { get; init; }
    public required string Trigger { get; init; }
    public bool? CatchUp { get; init; }
    public int? ExitCode { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
}

public sealed record DaemonTotals(long Sessions, long Succeeded, long Failed, double VcpuSeconds, double CpuSeconds);

public sealed record DaemonList(IReadOnlyList<Daemon> Items);

/// <summary>The body of <c>POST /v1/daemons/{name}/trigger</c>: a payload of any JSON, handed to the session as a file.</summary>
public sealed record TriggerDaemonRequest
{
    public JsonElement? Payload { get; init; }
}

/// <summary>
/// What a trigger did: <c>started</c> (a session is queued to run), <c>queued</c> (it waits for the daemon's running
/// session, concurrency <c>queue</c>) or <c>skipped</c> (the daemon was busy, concurrency <c>skip</c>; no session).
/// </summary>
public sealed record DaemonTriggerResult(string Daemon, string Outcome, string? SessionId, string? Reason = null);
