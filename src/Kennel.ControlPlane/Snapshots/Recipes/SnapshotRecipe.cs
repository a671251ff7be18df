namespace Kennel.ControlPlane.Snapshots.Recipes;

/// <summary>
/// A recipe as validated: what a build runs, in order: the base, the packages (one apt step), the files (one step), then
/// each <c>run</c> command (a step each). Its canonical JSON is stored with the build and keys the step cache.
/// </summary>
public sealed record SnapshotRecipe
{
    public required RecipeBase Base { get; init; }
    public required IReadOnlyList<string> Packages { get; init; }
    public required IReadOnlyList<RecipeFile> Files { get; init; }
    public required IReadOnlyList<string> Run { get; init; }

    /// <summary>Environment defaults: set in run steps and in every session on the snapshot (a session's own env wins).</summary>
    public required IReadOnlyDictionary<string, string> Env { get; init; }

    /// <summary>The directory run steps and sessions start in; null keeps the sandbox's <c>/work</c>.</summary>
    public string? Workdir { get; init; }
}

/// <summary>Exactly one of the base kinds is set.</summary>
public sealed record RecipeBase
{
    public DebootstrapBaseSpec? Debootstrap { get; init; }

    /// <summary>Another snapshot of the workspace: <c>name</c>, <c>name:tag</c> or <c>name@sha256:…</c>.</summary>
    public string? Snapshot { get; init; }

    /// <summary>An OCI image reference (<c>python:3.12-slim</c>, or by digest), pulled from its registry.</summary>
    public string? Oci { get; init; }

    /// <summary>An OCI image archive (a path on the control plane's host).</summary>
    public string? OciArchive { get; init; }

    /// <summary>The kind's name, which picks the <see cref="Build.ISnapshotBaseSource"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Kind => Debootstrap is not null ? "debootstrap" : Snapshot is not null ? "snapshot" : Oci is not null ? "oci" : "ociArchive";

    /// <summary>The base in one line, for lists.</summary>
    public string Describe() => Debootstrap is { } d ? $"debootstrap:{d.Suite}/{d.Variant}" : $"{Kind}:{Snapshot ?? Oci ?? OciArchive}";
}

public sealed record DebootstrapBaseSpec(string Suite, string Variant);

/// <summary>A file the build writes into the image: an absolute path, its text, and its octal mode.</summary>
public sealed record RecipeFile(string Path, string Content, string Mode);
