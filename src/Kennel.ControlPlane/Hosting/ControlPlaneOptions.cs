namespace Kennel.ControlPlane.Hosting;

/// <summary>Tunables of the control plane. <see cref="KennelSettings"/> reads them from the environment.</summary>
public sealed record ControlPlaneOptions
{
    /// <summary>A worker that has not polled for this long has lost its sessions.</summary>
    public TimeSpan LeaseTtl { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often expired leases are looked for.</summary>
    public TimeSpan ReaperInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest a worker's poll is held open; kept well under the lease so a waiting worker keeps its lease.</summary>
    public TimeSpan MaxPollWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Cap on each of stdout and stderr kept per session.</summary>
    public int OutputLimitBytes { get; init; } = 1024 * 1024;
}
