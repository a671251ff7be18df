namespace Kennel.Contracts.Quotas;

/// <summary>
/// A workspace's limits. Null is "no limit". Running sessions and vCPUs count what workers have claimed (starting or
/// running); past them, sessions wait in the queue. Past the queued limit, a create is refused (429 <c>queue_full</c>).
/// </summary>
public sealed record WorkspaceLimits(int? MaxRunningSessions, int? MaxVcpus, int? MaxQueuedSessions);

/// <summary>What a workspace uses now, counted the same way as its limits: sessions claimed by workers, their vCPUs and memory (MiB), and sessions queued.</summary>
public sealed record WorkspaceUsage(long RunningSessions, long Vcpus, long MemoryMb, long QueuedSessions);

/// <summary>
/// <c>GET /v1/workspaces/{name}/quota</c>: the limits in force (<see cref="Limits"/>), which of them an installation admin
/// set for this workspace (<see cref="Overridden"/>; the rest are the installation's defaults), and the usage now.
/// </summary>
public sealed record WorkspaceQuota(string Workspace, WorkspaceLimits Limits, IReadOnlyList<string> Overridden, WorkspaceUsage Usage);

/// <summary>
/// The body of <c>PUT /v1/workspaces/{name}/quota</c>, installation admins only. It replaces the workspace's overrides:
/// a field left out or null falls back to the installation default, and 0 means no limit.
/// </summary>
public sealed record SetQuotaRequest
{
    public int? MaxRunningSessions { get; init; }
    public int? MaxVcpus { get; init; }
    public int? MaxQueuedSessions { get; init; }
}
