namespace Kennel.Sandbox;

/// <summary>How the bubblewrap runtime runs sandboxes on this worker.</summary>
public sealed record BubblewrapOptions
{
    /// <summary>Where the runtime keeps the files it generates, such as each snapshot's synthetic /etc. Never mounted whole into a sandbox.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>The host uid sandboxes run as when the worker is root, so a sandbox is never host root. Default: nobody.</summary>
    public int HostUid { get; init; } = 65534;

    /// <summary>The host gid sandboxes run as when the worker is root.</summary>
    public int HostGid { get; init; } = 65534;

    /// <summary>The size of the private tmpfs at /tmp.</summary>
    public long TmpSizeBytes { get; init; } = 256L << 20;

    /// <summary>The size of the private tmpfs working directory at /work.</summary>
    public long WorkdirSizeBytes { get; init; } = 256L << 20;

    /// <summary>How many processes and threads one sandbox may have at once.</summary>
    public int PidsLimit { get; init; } = 1024;

    /// <summary>The cgroup, under this process's own cgroup in each hierarchy, that holds one child per session.</summary>
    public string CgroupGroup { get; init; } = "kennel";
}
