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

    /// <summary><see cref="SharedDirectory"/>, or its default on this machine.</summary>
    public string EffectiveSharedDirectory =>
        SharedDirectory ?? (Environment.IsPrivilegedProcess ? "/run/kennel-sandbox" : Path.Join(StateDirectory, "shared"));

    /// <summary>
    /// When the worker is root, the first of the host uids sandboxes run as: each live sandbox holds one of its own (its gid
    /// is the same number), so a sandbox is never host root and the kernel's per-uid limits are per session. No other
    /// process of the host may run as one of these uids.
    /// </summary>
    public int FirstHostUid { get; init; } = DefaultFirstHostUid;

    /// <summary>How many host uids, from <see cref="FirstHostUid"/>: at least as many as sandboxes run at once, plus the standbys.</summary>
    public int HostUidCount { get; init; } = DefaultHostUidCount;

    /// <summary>
    /// When the worker is root: switch each sandbox to its host uid by exec'ing <c>setpriv</c> (util-linux) before bwrap,
    /// rather than in the forked child itself. Slower by about a millisecond a start; used anyway when this .NET runtime
    /// lacks what the in-child switch needs (see <c>HostUidStart</c>), so a runtime update never leaves a worker without
    /// sandboxes.
    /// </summary>
    public bool SwitchUidWithSetpriv { get; init; }

    public const int DefaultFirstHostUid = 2_000_000_000;
    public const int DefaultHostUidCount = 65_536;

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

    /// <summary>How sessions with network reach out (see <see cref="Network.EgressNetwork"/>).</summary>
    public Network.EgressOptions Egress { get; init; } = new();
}
