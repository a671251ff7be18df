using Kennel.Contracts.Sessions;

namespace Kennel.ControlPlane.Sessions;

/// <summary>A <c>sessions</c> row as the store reads it.</summary>
public sealed class SessionRow
{
    public string Id { get; set; } = "";
    public string WorkspaceId { get; set; } = "";
    public string WorkspaceName { get; set; } = "";
    public string Status { get; set; } = "";
    public string Snapshot { get; set; } = "";

    /// <summary>The image digest of the built snapshot a worker was given, set at the claim.</summary>
    public string? SnapshotDigest { get; set; }
    public string Spec { get; set; } = "";
    public int Vcpus { get; set; }
    public int MemoryMb { get; set; }
    public long TimeoutMs { get; set; }
    public int? ExitCode { get; set; }
    public string? Stdout { get; set; }
    public string? Stderr { get; set; }
    public long Truncated { get; set; }
    public string? ErrorCode { get; set; }
    public string? ErrorMessage { get; set; }
    public long CreatedAt { get; set; }
    public long? StartedAt { get; set; }
    public long? EndedAt { get; set; }
    public string? WorkerId { get; set; }
    public long? LeaseExpiresAt { get; set; }
    public long? CancelRequestedAt { get; set; }
    public double VcpuSeconds { get; set; }
    public double CpuSeconds { get; set; }
    public string? DaemonId { get; set; }
    public string? Daemon { get; set; }
    public string? TriggerType { get; set; }
    public long? ScheduledFor { get; set; }
    public long CatchUp { get; set; }
    public long Held { get; set; }

    /// <summary>The W3C traceparent of the span that created it, when tracing is on.</summary>
    public string? TraceParent { get; set; }

    /// <summary>For a session with network that has ended: its <see cref="SessionEgress"/> as JSON.</summary>
    public string? Egress { get; set; }
}

/// <summary>The parts of a session's request kept as one JSON column: they are read back whole and never queried.</summary>
public sealed record StoredSessionSpec
{
    public string? Script { get; init; }
    public IReadOnlyList<string>? Command { get; init; }
    public required IReadOnlyDictionary<string, string> Env { get; init; }

    /// <summary>The names of the workspace secrets to add to the env. Only names: the values are resolved when a worker claims the session.</summary>
    public IReadOnlyList<string>? Secrets { get; init; }

    public required string NetworkMode { get; init; }

    /// <summary>For <c>allowlist</c>: the rules, as checked and written back (<c>host</c> or <c>host:port</c>).</summary>
    public IReadOnlyList<string>? NetworkAllow { get; init; }

    public long? NetworkByteCap { get; init; }

    /// <summary>The network as the worker is told it and the API shows it; null for none.</summary>
    public SessionNetwork? Network() =>
        NetworkMode == Kennel.Sandbox.Network.EgressPolicy.None ? null : new SessionNetwork { Mode = NetworkMode, Allow = NetworkAllow, ByteCap = NetworkByteCap };
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    /// <summary>Files the sandbox shows the workload read-only, such as a daemon's trigger payload.</summary>
    public IReadOnlyList<Contracts.Workers.SessionFile>? Files { get; init; }

    /// <summary>
    /// Installed skills the sandbox mounts read-only under <c>/skills/</c>, by name and archive hash. Set only by an agent's
    /// <c>exec</c>, never from a request: the worker may fetch exactly these archives while it holds the session.
    /// </summary>
    public IReadOnlyList<Contracts.Workers.SessionSkill>? Skills { get; init; }

    /// <summary>What the sandbox executes: a script runs under <c>/bin/sh -c</c>, a command as given.</summary>
    public IReadOnlyList<string> Argv() => Script is { } script ? ["/bin/sh", "-c", script] : Command ?? [];
}

/// <summary>One stored chunk of a live session's output.</summary>
public sealed class OutputChunkRow
{
    public string Stream { get; set; } = "";
    public long ByteOffset { get; set; }
    public string Data { get; set; } = "";
}
