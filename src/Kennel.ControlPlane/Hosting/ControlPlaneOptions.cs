namespace Kennel.ControlPlane.Hosting;

/// <summary>Tunables of the control plane. <see cref="KennelSettings"/> reads them from the environment.</summary>
public sealed record ControlPlaneOptions
{
    private readonly TimeSpan maxPollWait = TimeSpan.FromSeconds(10);

    /// <summary>A worker that has not polled for this long has lost its sessions.</summary>
    public TimeSpan LeaseTtl { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often expired leases are looked for.</summary>
    public TimeSpan ReaperInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Longest a worker's poll is held open. A poll renews leases only when it arrives, so this never exceeds a third of
    /// the lease, however short the lease is set: a worker waiting on a held poll must not lose what it runs.
    /// </summary>
    public TimeSpan MaxPollWait
    {
        get => maxPollWait < LeaseTtl / 3 ? maxPollWait : LeaseTtl / 3;
        init => maxPollWait = value;
    }

    /// <summary>
    /// Agent runs one control plane executes at once; more wait queued. A run mostly waits on its model, so this bounds
    /// memory and provider connections rather than CPU.
    /// </summary>
    public int MaxConcurrentRuns { get; init; } = 256;

    /// <summary>Cap on each of stdout and stderr kept per session.</summary>
    public int OutputLimitBytes { get; init; } = 1024 * 1024;
}
