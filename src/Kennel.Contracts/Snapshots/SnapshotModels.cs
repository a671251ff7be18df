namespace Kennel.Contracts.Snapshots;

/// <summary>
/// The body of <c>POST /v1/snapshots</c>: the name to file the build under, the tags it moves once ready (default
/// <c>latest</c>), and the recipe (YAML or JSON text, see docs/snapshots.md).
/// </summary>
public sealed record BuildSnapshotRequest
{
    public string? Name { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
    public string? Recipe { get; init; }
}

/// <summary>A snapshot as every API shows it: one build, with the tags that point at it now.</summary>
public sealed record SnapshotView
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required IReadOnlyList<string> Tags { get; init; }

    /// <summary><c>sha256:…</c> of the image, once ready.</summary>
    public string? Digest { get; init; }

    public long? Size { get; init; }

    /// <summary><c>building</c>, <c>ready</c> or <c>failed</c>.</summary>
    public required string Status { get; init; }

    public required string Base { get; init; }
    public SnapshotBuildError? Error { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>How many workers hold the image unpacked now.</summary>
    public int Workers { get; init; }

    /// <summary>True for a snapshot Kennel ships (<c>test-minimal</c>), which no build made.</summary>
    public bool BuiltIn { get; init; }

    /// <summary>The build log; only on <c>GET /v1/snapshots/{id}</c>.</summary>
    public string? Log { get; init; }
}

public sealed record SnapshotBuildError(string Code, string Message);

public sealed record SnapshotViewList(IReadOnlyList<SnapshotView> Items);

/// <summary>The body of <c>PUT /v1/snapshots/tags/{name}/{tag}</c>: the snapshot (id, or <c>name@sha256:…</c>) the tag points to.</summary>
public sealed record TagSnapshotRequest
{
    public string? Snapshot { get; init; }
}

/// <summary>One move of a tag, newest first in <c>GET /v1/snapshots/tags/{name}/{tag}</c>.</summary>
public sealed record SnapshotTagEvent(string Name, string Tag, string? PreviousSnapshotId, string SnapshotId, string Reason, DateTimeOffset At);

public sealed record SnapshotTagHistory(string Name, string Tag, string SnapshotId, IReadOnlyList<SnapshotTagEvent> Events);
