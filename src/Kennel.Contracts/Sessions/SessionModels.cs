namespace Kennel.Contracts.Sessions;

/// <summary>The body of <c>POST /v1/sessions</c>. Exactly one of <see cref="Script"/> and <see cref="Command"/>.</summary>
public sealed record CreateSessionRequest
{
    public string? Snapshot { get; init; }
    public string? Script { get; init; }
    public IReadOnlyList<string>? Command { get; init; }
    public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary>Names of workspace secrets the workload sees as env vars. Their values are never stored with the session.</summary>
    public IReadOnlyList<string>? Secrets { get; init; }

    public long? TimeoutMs { get; init; }
    public SessionResources? Resources { get; init; }
    public SessionNetwork? Network { get; init; }
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}

public sealed record SessionResources
{
    public int? Vcpus { get; init; }
    public int? MemoryMb { get; init; }
}

/// <summary>
/// A session's network: <c>none</c> (the default: only its own loopback), <c>allowlist</c> (only the hosts in
/// <see cref="Allow"/>, through the worker's egress proxy) or <c>open</c> (any public address; admins only, or workspaces
/// the installation allows).
/// </summary>
public sealed record SessionNetwork
{
    public string? Mode { get; init; }

    /// <summary>For <c>allowlist</c>: host names (<c>api.github.com</c>), domains (<c>*.pypi.org</c>) and optional ports (443 unless named).</summary>
    public IReadOnlyList<string>? Allow { get; init; }

    /// <summary>The most bytes the session's network may move, in and out together; it is cut off past it.</summary>
    public long? ByteCap { get; init; }
}

/// <summary>What a session with network moved and was refused, counted by its worker's egress proxy.</summary>
public sealed record SessionEgress
{
    public required long BytesIn { get; init; }
    public required long BytesOut { get; init; }

    /// <summary>Every refused attempt.</summary>
    public required int Refused { get; init; }

    /// <summary>Each distinct refused destination (the first 100), with the rule that refused it.</summary>
    public required IReadOnlyList<RefusedDestination> RefusedDestinations { get; init; }
}

/// <param name="Rule">Why: <c>not-in-allowlist</c>, <c>raw-ip</c>, <c>byte-cap</c>, or the forbidden range the name resolved to (<c>private</c>, <c>loopback</c>, <c>link-local</c>, <c>kennel-host</c>, …).</param>
public sealed record RefusedDestination(string Host, int Port, string Rule);

public sealed record SessionError(string Code, string Message);

/// <summary>A session as every API shows it.</summary>
public sealed record Session
{
    public required string Id { get; init; }
    public required string Workspace { get; init; }
    public required SessionStatus Status { get; init; }
    public required string Snapshot { get; init; }

    /// <summary><c>sha256:…</c> of the built snapshot's image the session ran on, recorded when a worker took it; null on a built-in.</summary>
    public string? SnapshotDigest { get; init; }

    public string? Script { get; init; }
    public IReadOnlyList<string>? Command { get; init; }
    public required IReadOnlyDictionary<string, string> Env { get; init; }

    /// <summary>The names of the workspace secrets the workload sees as env vars; never their values.</summary>
    public required IReadOnlyList<string> Secrets { get; init; }

    public required long TimeoutMs { get; init; }
    public required SessionResources Resources { get; init; }
    public required SessionNetwork Network { get; init; }
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }
    public int? ExitCode { get; init; }
    public required string Stdout { get; init; }
    public required string Stderr { get; init; }
    public bool Truncated { get; init; }
    public SessionError? Error { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public string? WorkerId { get; init; }
    public double VcpuSeconds { get; init; }
    public double CpuSeconds { get; init; }

    /// <summary>For a session with network, once it has ended: what it moved and was refused.</summary>
    public SessionEgress? Egress { get; init; }

    /// <summary>The daemon that started this session, if one did.</summary>
    public string? Daemon { get; init; }

    /// <summary>What started it, for a daemon's session: <c>webhook</c>, <c>schedule</c> or <c>manual</c>.</summary>
    public string? Trigger { get; init; }

    /// <summary>For a scheduled run: the time it was due.</summary>
    public DateTimeOffset? ScheduledFor { get; init; }

    /// <summary>True when this scheduled run stands in for runs missed while no control plane was up.</summary>
    public bool? CatchUp { get; init; }
}

public sealed record SessionPage(IReadOnlyList<Session> Items, string? NextCursor);

/// <summary>One event of <c>GET /v1/sessions/{id}/stream</c>: output as it arrives, then the final session.</summary>
public sealed record SessionOutputEvent(string Stream, string Data);
