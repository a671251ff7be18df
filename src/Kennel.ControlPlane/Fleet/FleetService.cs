using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Sessions;
using Kennel.ControlPlane.Workers;

namespace Kennel.ControlPlane.Fleet;

/// <summary>
/// The fleet at a glance, as a caller may see it: the workers are shared by every workspace, so only their totals are
/// shown (each worker by name is for installation admins, through <see cref="WorkerRegistry"/>); sessions are the
/// caller's workspace's own.
/// </summary>
public sealed class FleetService(WorkerRegistry workers, SessionStore sessions)
{
    public async Task<FleetOverview> OverviewAsync(Caller caller, CancellationToken cancellationToken)
    {
        var fleet = await workers.ListAsync(cancellationToken);
        var healthy = fleet.Where(w => w.Health == "healthy").ToList();
        var (pending, running) = await sessions.CountLiveAsync(caller.WorkspaceId, cancellationToken);
        var total = new FleetCapacity(healthy.Sum(w => w.Capacity.Vcpus), healthy.Sum(w => w.Capacity.MemoryMb), healthy.Sum(w => w.Capacity.Slots));
        var used = new FleetCapacity(healthy.Sum(w => w.Used.Vcpus), healthy.Sum(w => w.Used.MemoryMb), healthy.Sum(w => w.Used.Slots));
        return new FleetOverview(
            fleet.Count,
            healthy.Count,
            running,
            pending,
            total,
            used,
            new FleetCapacity(Math.Max(0, total.Vcpus - used.Vcpus), Math.Max(0, total.MemoryMb - used.MemoryMb), Math.Max(0, total.Slots - used.Slots)));
    }
}

/// <summary>Capacity of the healthy workers: total, in use by running sessions, and free.</summary>
public sealed record FleetOverview(
    int Workers,
    int HealthyWorkers,
    long ActiveSessions,
    long QueueDepth,
    FleetCapacity Capacity,
    FleetCapacity Used,
    FleetCapacity Free);

public sealed record FleetCapacity(long Vcpus, long MemoryMb, long Slots);
