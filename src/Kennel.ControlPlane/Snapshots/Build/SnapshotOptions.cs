namespace Kennel.ControlPlane.Snapshots.Build;

/// <summary>Where snapshot images live and how builds run (<c>KENNEL_SNAPSHOT_DIR</c>, <c>KENNEL_SNAPSHOT_BUILD_UID</c>…).</summary>
public sealed record SnapshotOptions
{
    public const int DefaultBuildUid = 1_999_999_999;

    /// <summary>
    /// The image directory: <c>images/</c> holds every image by digest, <c>builds/</c> the trees of running builds. With
    /// several control planes it must be one directory they all mount (NFS or the like): any replica serves any image.
    /// </summary>
    public required string Directory { get; init; }

    /// <summary>
    /// Where running builds keep their trees (<c>KENNEL_SNAPSHOT_BUILD_DIR</c>). From root, the build uid must be able to
    /// reach it, which a private data directory does not allow: by default <c>/var/lib/kennel/snapshot-builds</c>.
    /// </summary>
    public string? BuildDirectory { get; init; }

    public string EffectiveBuildDirectory =>
        BuildDirectory ?? (Environment.IsPrivilegedProcess ? "/var/lib/kennel/snapshot-builds" : Path.Join(Directory, "builds"));

    /// <summary>The largest image a build may produce.</summary>
    public long MaxImageBytes { get; init; } = 8L << 30;

    /// <summary>From root: the host uid builds run as (it must be no other user's, and outside the sandboxes' range).</summary>
    public int BuildUid { get; init; } = DefaultBuildUid;

    /// <summary>How long a builder holds a build without renewing; a crashed builder's build is taken over after it.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest one step may run.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How many times a build is taken over after its builder stopped before it is marked failed.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The images, by digest: <c>images/{digest}.tar</c>.</summary>
    public string ImagePath(string digest) => Path.Join(Directory, "images", digest + ".tar");
}
