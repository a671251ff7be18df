using Kennel.Contracts.Quotas;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Quotas;
using Kennel.ControlPlane.Workers;

namespace Kennel.ControlPlane.Fleet;

/// <summary>
/// The fleet at a glance, as a caller may see it. Installation admins (an admin key of <c>default</c>) see the whole
/// fleet: every workspace's sessions and what they use. Everyone else sees only their own workspace: its sessions, what
/// it uses, and the capacity open to it (the healthy workers' capacity within its limits), never a figure that moves with
/// another workspace's activity.
/// </summary>
public sealed class FleetService(WorkerRegistry workers, QuotaStore quotas)
{
    public async Task<FleetOverview> OverviewAsync(Caller caller, CancellationToken cancellationToken)
    {
        var fleet = await workers.ListAsync(cancellationToken);
        var healthy = fleet.Where(w => w.Health == "healthy").ToList();
        var total = new FleetCapacity(healthy.Sum(w => w.Capacity.Vcpus), healthy.Sum(w => w.Capacity.MemoryMb), healthy.Sum(w => w.Capacity.Slots));
        if (caller.IsInstallationAdmin)
        {
            var byWorkspace = await quotas.UsageByWorkspaceAsync(cancellationToken);
            var used = new FleetCapacity(healthy.Sum(w => w.Used.Vcpus), healthy.Sum(w => w.Used.MemoryMb), healthy.Sum(w => w.Used.Slots));
            return new FleetOverview(FleetOverview.FleetScope, fleet.Count, healthy.Count, byWorkspace.Sum(w => w.Usage.RunningSessions),
                byWorkspace.Sum(w => w.Usage.QueuedSessions), total, used, Free(total, used), null,
                [.. byWorkspace.Select(w => new WorkspaceLoad(w.Workspace, w.Usage))]);
        }
        var (limits, _, usage) = await quotas.GetAsync(caller.WorkspaceId, cancellationToken);
        var open = new FleetCapacity(Min(total.Vcpus, limits.MaxVcpus), total.MemoryMb, Min(total.Slots, limits.MaxRunningSessions));
        var own = new FleetCapacity(usage.Vcpus, usage.MemoryMb, usage.RunningSessions);
        return new FleetOverview(FleetOverview.WorkspaceScope, fleet.Count, healthy.Count, usage.RunningSessions, usage.QueuedSessions, open, own,
            Free(open, own), limits, null);
    }

    private static long Min(long total, int? limit) => limit is { } l ? Math.Min(total, l) : total;

    private static FleetCapacity Free(FleetCapacity total, FleetCapacity used) =>
        new(Math.Max(0, total.Vcpus - used.Vcpus), Math.Max(0, total.MemoryMb - used.MemoryMb), Math.Max(0, total.Slots - used.Slots));
}

/// <summary>
/// The <c>fleet-overview</c> answer. <see cref="Scope"/> says whose figures these are: <c>fleet</c> for installation admins
/// (every workspace, with <see cref="Workspaces"/> broken down), or <c>workspace</c> (the caller's own workspace: its
/// sessions, its use, and the capacity open to it within its <see cref="Limits"/>; another workspace's sessions may hold
/// some of that capacity at any moment).
/// </summary>
public sealed record FleetOverview(
    string Scope,
    int Workers,
    int HealthyWorkers,
    long ActiveSessions,
    long QueueDepth,
    FleetCapacity Capacity,
    FleetCapacity Used,
    FleetCapacity Free,
    WorkspaceLimits? Limits,
    IReadOnlyList<WorkspaceLoad>? Workspaces)
{
    public const string FleetScope = "fleet";
    public const string WorkspaceScope = "workspace";
}

/// <summary>One workspace's sessions and use, in an installation admin's overview.</summary>
public sealed record WorkspaceLoad(string Workspace, WorkspaceUsage Usage);

public sealed record FleetCapacity(long Vcpus, long MemoryMb, long Slots);
