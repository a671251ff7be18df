using Kennel.Contracts.Workers;

namespace Kennel.Worker;

public sealed record WorkerAgentOptions
{
    public required WorkerCapacity Capacity { get; init; }

    /// <summary>How long each poll may be held open by the control plane when there is nothing to do.</summary>
    public TimeSpan PollWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often live output is sent while a session runs. Output at exit goes with the exit report.</summary>
    public TimeSpan OutputFlushInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Where the worker keeps the skills it mounts (<see cref="SkillCache"/>): a folder the sandboxes' uids can search, used
    /// by this worker alone. Null: sessions that mount skills fail with <c>skill_unavailable</c>.
    /// </summary>
    public string? SkillDirectory { get; init; }

    /// <summary>
    /// Where the worker keeps the built snapshots it boots (<see cref="SnapshotCache"/>): like <see cref="SkillDirectory"/>,
    /// searchable by the sandboxes' uids and this worker's alone. Null: sessions on built snapshots fail with
    /// <c>snapshot_unavailable</c>.
    /// </summary>
    public string? SnapshotDirectory { get; init; }

    /// <summary>The most snapshot image bytes the worker keeps (<c>KENNEL_SNAPSHOT_CACHE_BYTES</c>); least recently used go first.</summary>
    public long SnapshotCacheBytes { get; init; } = SnapshotCache.DefaultMaxBytes;

    /// <summary>Defaults for this machine: vCPUs overcommitted 4:1 (agent workloads mostly wait), 90% of memory.</summary>
    public static WorkerCapacity DefaultCapacity()
    {
        var memoryMb = (int)Math.Min(int.MaxValue, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024) * 9 / 10);
        return new WorkerCapacity(Environment.ProcessorCount * 4, Math.Max(memoryMb, 256), 64);
    }
}
