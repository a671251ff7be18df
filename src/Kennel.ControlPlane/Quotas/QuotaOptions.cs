using Kennel.Contracts.Quotas;

namespace Kennel.ControlPlane.Quotas;

/// <summary>
/// The installation's default limits for every workspace (<c>KENNEL_WORKSPACE_MAX_RUNNING_SESSIONS</c>,
/// <c>KENNEL_WORKSPACE_MAX_VCPUS</c>, <c>KENNEL_WORKSPACE_MAX_QUEUED_SESSIONS</c>; 0 is no limit). An installation admin
/// overrides them per workspace.
/// </summary>
public sealed record QuotaOptions
{
    public const int DefaultMaxQueuedSessions = 1000;

    /// <summary>
    /// Running sessions and vCPUs are not limited by default: fair share already gives every workspace with work queued
    /// its turn at the next free slot, and a limit would leave capacity idle on an installation with one busy tenant.
    /// </summary>
    public WorkspaceLimits Defaults { get; init; } = new(null, null, DefaultMaxQueuedSessions);

    /// <summary>0 is "no limit", in the environment and in an admin's override alike.</summary>
    public static int? Limit(int value) => value > 0 ? value : null;
}
