namespace Kennel.Sandbox;

/// <summary>How the bubblewrap runtime runs sandboxes on this worker.</summary>
public sealed record BubblewrapOptions
{
    /// <summary>The runtime's private directory, e.g. under Kennel's data directory. Never mounted into a sandbox, and need not be readable by the sandbox's uid.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>
    /// Where the runtime publishes the files sandboxes mount read-only, such as each snapshot's synthetic /etc. The
    /// sandbox's host uid must be able to read them, so this must not be inside a private data directory; nothing
    /// secret goes there. Default: <c>/run/kennel-sandbox</c> when the worker is root, else <c>shared</c> under
    /// <see cref="StateDirectory"/> (the sandbox then runs as the worker's own uid).
    /// </summary>
    public string? SharedDirectory { get; init; }

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

    /// <summary>
    /// How many sandboxes wait started, in their cgroups, for the next sessions. A session that finds none ready starts
    /// its own, a few milliseconds slower. 0 starts every sandbox on demand.
    /// </summary>
    public int StandbySandboxes { get; init; } = 2;

    /// <summary>The cgroup, under this process's own cgroup in each hierarchy, that holds one child per session.</summary>
    public string CgroupGroup { get; init; } = "kennel";
}
