using System.Diagnostics;

namespace Kennel.ControlPlane.Observability;

/// <summary>
/// A session's trace: the span that creates it (inside the API call's), whose context the session keeps
/// (<c>trace_parent</c>), and later, as children of that span, its time in the queue (ended by a worker's claim) and its
/// run (ended by the worker's exit report), each linked to the worker's request that ended it. With no listener (tracing
/// off), <see cref="Source"/> starts nothing and every method here costs a check.
/// </summary>
public static class SessionTracing
{
    public const string SourceName = "Kennel";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>The span of a session's creation; null when no one listens.</summary>
    public static Activity? StartCreate(string sessionId, string workspaceId)
    {
        var activity = Source.StartActivity("session create");
        activity?.SetTag("kennel.session.id", sessionId);
        activity?.SetTag("kennel.workspace.id", workspaceId);
        return activity;
    }

    /// <summary>The time a session waited for a worker, from its creation to the claim.</summary>
    public static void Queued(string? traceParent, string sessionId, string workerId, long createdAt, long claimedAt) =>
        Record("session queued", traceParent, sessionId, workerId, createdAt, claimedAt, null);

    /// <summary>A session's run, from its sandbox's start to the exit report.</summary>
    public static void Ran(string? traceParent, string sessionId, string workerId, long startedAt, long endedAt, string status) =>
        Record("session run", traceParent, sessionId, workerId, startedAt, endedAt, status);

    private static void Record(string name, string? traceParent, string sessionId, string workerId, long from, long to, string? status)
    {
        if (traceParent is null || !Source.HasListeners() || !ActivityContext.TryParse(traceParent, null, out var parent))
        {
            return;
        }
        // The worker's request (poll or report) is its own trace; the link ties it to this one.
        ActivityLink[]? links = Activity.Current is { } request ? [new ActivityLink(request.Context)] : null;
        using var activity = Source.StartActivity(name, ActivityKind.Internal, parent, links: links, startTime: DateTimeOffset.FromUnixTimeMilliseconds(from));
        if (activity is null)
        {
            return;
        }
        activity.SetTag("kennel.session.id", sessionId);
        activity.SetTag("kennel.worker.id", workerId);
        if (status is not null)
        {
            activity.SetTag("kennel.session.status", status);
        }
        activity.SetEndTime(DateTimeOffset.FromUnixTimeMilliseconds(Math.Max(from, to)).UtcDateTime);
    }
}
