using System.Data.Common;

namespace Kennel.ControlPlane.Scheduling;

/// <summary>A schedule as its owner defines it. The owner's id is the schedule's id; <see cref="Kind"/> names the owner.</summary>
/// <param name="CatchUp"><see cref="CatchUpPolicy.Once"/> or <see cref="CatchUpPolicy.Skip"/>.</param>
public sealed record ScheduleDefinition(string Id, string Kind, string WorkspaceId, string Cron, string Timezone, string CatchUp);

/// <summary>One due run, handed to the owner's <see cref="IScheduledWork"/> inside the transaction that records it.</summary>
/// <param name="CatchUp">True when the run stands in for runs missed while no scheduler was running.</param>
public sealed record ScheduledRun(string ScheduleId, string Kind, string WorkspaceId, DateTimeOffset ScheduledFor, bool CatchUp);

/// <summary>
/// What a kind of schedule does when it fires: a daemon starts a session; an agent's cron job will start a turn. The
/// scheduler knows nothing else of its owners.
/// </summary>
public interface IScheduledWork
{
    /// <summary>The <see cref="ScheduleDefinition.Kind"/> this work serves.</summary>
    string Kind { get; }

    /// <summary>
    /// Starts a batch of runs in the scheduler's transaction, so the runs and what they start commit together or not at
    /// all. Returns, for each run in order, a reference to what it started (a session id), or null when it declined (the
    /// owner is busy or gone). A batch holds at most two runs of a schedule: a catch-up for the runs it missed, then the
    /// run due on time, in that order.
    /// </summary>
    Task<IReadOnlyList<string?>> StartAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<ScheduledRun> runs, CancellationToken cancellationToken);

    /// <summary>Called after runs of this kind have committed: the place to wake whatever picks up what they started.</summary>
    void Committed(IReadOnlyList<ScheduledRun> runs);
}

/// <summary>What happens to runs missed while no scheduler was running.</summary>
public static class CatchUpPolicy
{
    /// <summary>
    /// Fire one run for all that were missed, marked as a catch-up, then continue on schedule (the default). A run due on
    /// time when the scheduler comes back still fires, after the catch-up.
    /// </summary>
    public const string Once = "once";

    /// <summary>Fire none of them; continue on schedule.</summary>
    public const string Skip = "skip";

    public static bool IsValid(string? value) => value is Once or Skip;
}
