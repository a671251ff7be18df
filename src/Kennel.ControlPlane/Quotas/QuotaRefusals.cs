using Kennel.Contracts.Quotas;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Quotas;

/// <summary>The answers to a session that a workspace's limits do not admit, worded alike for every caller.</summary>
public static class QuotaRefusals
{
    /// <summary>Why a new session may not join the queue, or null when it may.</summary>
    public static string? Why(WorkspaceLimits limits, long queued, int vcpus)
    {
        if (limits.MaxVcpus is { } maxVcpus && vcpus > maxVcpus)
        {
            return $"The session asks for {vcpus} vCPUs and this workspace may use at most {maxVcpus} at once, so it could never start.";
        }
        if (limits.MaxQueuedSessions is { } maxQueued && queued >= maxQueued)
        {
            return $"This workspace already has {queued} sessions queued, its limit ({maxQueued}). Wait for some to start, or cancel some.";
        }
        return null;
    }

    /// <summary>Throws the API's answer when a session may not join the queue: 400 for one that could never run, else 429.</summary>
    public static void Check(WorkspaceLimits limits, long queued, int vcpus)
    {
        if (Why(limits, queued, vcpus) is not { } why)
        {
            return;
        }
        throw limits.MaxVcpus is { } maxVcpus && vcpus > maxVcpus
            ? new ApiProblem(StatusCodes.Status400BadRequest, ErrorCodes.QuotaExceeded, "The request is over the workspace's limits.", why, "resources.vcpus")
            : new ApiProblem(StatusCodes.Status429TooManyRequests, ErrorCodes.QueueFull, "The workspace's queue is full.", why);
    }
}
