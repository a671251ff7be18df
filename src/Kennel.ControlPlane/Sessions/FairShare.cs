using Kennel.Contracts.Quotas;

namespace Kennel.ControlPlane.Sessions;

/// <summary>What one worker has free: vCPUs, memory (MiB) and session slots.</summary>
internal readonly record struct FreeCapacity(int Vcpus, int MemoryMb, int Slots)
{
    public bool Fits(SessionRow session) => Slots > 0 && session.Vcpus <= Vcpus && session.MemoryMb <= MemoryMb;

    public FreeCapacity Less(SessionRow session) => new(Vcpus - session.Vcpus, MemoryMb - session.MemoryMb, Slots - 1);
}

/// <summary>
/// What a workspace has claimed fleet-wide (sessions starting or running on any worker) and their vCPUs, and when a worker
/// last took one of its sessions (Unix ms; null if never).
/// </summary>
internal readonly record struct Claimed(long Sessions, long Vcpus, long? LastClaimedAt = null);

/// <summary>
/// Which queued sessions a worker takes, so that capacity is shared fairly among the workspaces with work queued, and no
/// workspace goes past its limits. Slot by slot, the workspace with the fewest sessions claimed fleet-wide goes next (ties:
/// the one served least recently, then the one whose oldest queued session is oldest), and it takes its oldest session
/// that fits: a session too big for what
/// is free waits, and smaller ones behind it may go ahead. A workspace at its running-session or vCPU limit takes nothing,
/// and its sessions wait. So one workspace's 80 queued sessions delay another's only until the next free slot.
/// </summary>
internal static class FairShare
{
    /// <param name="queued">Each workspace's oldest queued sessions, in queue order.</param>
    /// <param name="now">Unix ms, recorded as each picked workspace's last claim.</param>
    public static List<SessionRow> Pick(
        FreeCapacity free, IEnumerable<SessionRow> queued, IDictionary<string, Claimed> claimed, IReadOnlyDictionary<string, WorkspaceLimits> limits, long now)
    {
        var waiting = queued.GroupBy(s => s.WorkspaceId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var picked = new List<SessionRow>();
        while (free.Slots > 0 && waiting.Count > 0)
        {
            var workspace = Next(waiting, claimed);
            var sessions = waiting[workspace];
            var usage = claimed.TryGetValue(workspace, out var current) ? current : default;
            var limit = limits.TryGetValue(workspace, out var l) ? l : null;
            var index = limit?.MaxRunningSessions is { } maxRunning && usage.Sessions >= maxRunning
                ? -1
                : sessions.FindIndex(s => free.Fits(s) && (limit?.MaxVcpus is not { } maxVcpus || usage.Vcpus + s.Vcpus <= maxVcpus));
            if (index < 0)
            {
                waiting.Remove(workspace); // nothing of it fits now: it waits for the next poll
                continue;
            }
            var session = sessions[index];
            sessions.RemoveAt(index);
            if (sessions.Count == 0)
            {
                waiting.Remove(workspace);
            }
            picked.Add(session);
            free = free.Less(session);
            claimed[workspace] = new Claimed(usage.Sessions + 1, usage.Vcpus + session.Vcpus, now);
        }
        return picked;
    }

    private static string Next(Dictionary<string, List<SessionRow>> waiting, IDictionary<string, Claimed> claimed)
    {
        string? best = null;
        var bestUsage = default(Claimed);
        foreach (var (workspace, sessions) in waiting)
        {
            var usage = claimed.TryGetValue(workspace, out var found) ? found : default;
            if (best is null || Before(usage, sessions[0].Id, bestUsage, waiting[best][0].Id))
            {
                best = workspace;
                bestUsage = usage;
            }
        }
        return best!;
    }

    private static bool Before(Claimed usage, string oldest, Claimed other, string otherOldest)
    {
        if (usage.Sessions != other.Sessions)
        {
            return usage.Sessions < other.Sessions;
        }
        var last = usage.LastClaimedAt ?? long.MinValue;
        var otherLast = other.LastClaimedAt ?? long.MinValue;
        return last != otherLast ? last < otherLast : string.CompareOrdinal(oldest, otherOldest) < 0;
    }
}
