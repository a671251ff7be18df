using Kennel.Contracts.Sessions;

namespace Kennel.Contracts.Workers;

/// <summary>What a worker can hold at once. The control plane places sessions only where they fit.</summary>
public sealed record WorkerCapacity(int Vcpus, int MemoryMb, int Slots);

/// <summary><c>POST /v1/worker/enroll</c>: a one-time enrollment token buys a per-worker credential.</summary>
public sealed record EnrollRequest(string Token, string Name, WorkerCapacity Capacity, IReadOnlyDictionary<string, string>? Labels);

public sealed record EnrollResponse(string WorkerId, string Credential);

/// <summary>
/// <c>POST /v1/worker/poll</c>: heartbeat, claim and cancel notices in one long poll. <see cref="Held"/> lists every
/// session the worker has been given and not yet finished, so the control plane can requeue what never arrived.
/// </summary>
public sealed record PollRequest
{
    public required IReadOnlyList<string> Held { get; init; }
    public WorkerCapacity? Capacity { get; init; }
    public int WaitMs { get; init; }

    /// <summary>The digests of the built snapshots the worker holds unpacked; the dispatcher prefers it for sessions on them.</summary>
    public IReadOnlyList<string>? Snapshots { get; init; }
}

public sealed record PollResponse(IReadOnlyList<SessionAssignment> Assignments, IReadOnlyList<string> Cancel, int LeaseTtlMs);

/// <summary>Everything a worker needs to run one session.</summary>
public sealed record SessionAssignment
{
    public required string SessionId { get; init; }
    public required string Snapshot { get; init; }
    public required IReadOnlyList<string> Argv { get; init; }
    public required IReadOnlyDictionary<string, string> Env { get; init; }
    public required long TimeoutMs { get; init; }
    public required int Vcpus { get; init; }
    public required int MemoryMb { get; init; }
    public required int OutputLimitBytes { get; init; }

    /// <summary>Files the sandbox shows the workload read-only, such as a daemon's trigger payload.</summary>
    public IReadOnlyList<SessionFile>? Files { get; init; }

    /// <summary>Installed skills the sandbox shows read-only under <c>/skills/{name}</c>; the worker fetches each archive by hash.</summary>
    public IReadOnlyList<SessionSkill>? Skills { get; init; }

    /// <summary>
    /// For a built snapshot: the SHA-256 of its image, which the worker fetches (<c>GET /v1/worker/snapshots/{digest}</c>),
    /// verifies and boots read-only. Null for a built-in snapshot such as <c>test-minimal</c>.
    /// </summary>
    public string? SnapshotDigest { get; init; }

    /// <summary>The session's network, when it has one (checked by the control plane); null for none.</summary>
    public SessionNetwork? Network { get; init; }
}

/// <summary>A skill for the sandbox: its name (the folder under <c>/skills/</c>) and the lower-case hex SHA-256 of its archive.</summary>
public sealed record SessionSkill(string Name, string Sha256);

/// <summary>A file for the sandbox: an absolute path under <c>/run/kennel/</c> and its bytes in base64.</summary>
public sealed record SessionFile(string Path, string ContentBase64);

/// <summary>
/// <c>POST /v1/worker/sessions/{id}/report</c>: any of started, output chunks and the exit, in one message.
/// Chunks carry their byte offset in the stream so a retried report is idempotent.
/// </summary>
public sealed record SessionReport
{
    public bool Started { get; init; }

    /// <summary>With <see cref="Started"/>: how long the workload had been running when the report was sent, so the
    /// control plane dates <c>startedAt</c> from when the workload started, not from when it heard.</summary>
    public long RunningForMs { get; init; }

    public IReadOnlyList<OutputChunk>? Output { get; init; }
    public SessionExit? Exit { get; init; }
}

public sealed record OutputChunk(string Stream, long Offset, string Data, bool Truncated = false);

public sealed record SessionExit
{
    public required SessionStatus Status { get; init; }
    public int? ExitCode { get; init; }
    public SessionError? Error { get; init; }
    public required double WallSeconds { get; init; }
    public required double CpuSeconds { get; init; }

    /// <summary>For a session with network: what it moved and was refused.</summary>
    public SessionEgress? Egress { get; init; }
}

public sealed record ReportResponse(bool Cancel);
