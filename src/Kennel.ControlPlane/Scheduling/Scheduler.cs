using System.Data.Common;
using Kennel.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Scheduling;

/// <summary>
/// Fires due schedules. It sleeps until the earliest next run (or <see cref="SchedulerOptions.PollInterval"/>, for
/// changes made on other replicas), then claims what is due from the store and, in one transaction per batch, records
/// each run under its unique (schedule, time) key, has the owner start it, and moves the schedule on. Nothing is held in
/// memory between ticks, so a restart or a second replica neither loses nor repeats a run. All time comes from
/// <see cref="TimeProvider"/>.
/// </summary>
public sealed partial class Scheduler(
    Database database, ScheduleStore store, IEnumerable<IScheduledWork> works, SchedulerOptions options, TimeProvider time, ILogger<Scheduler> logger,
    Observability.KennelMetrics? metrics = null)
    : BackgroundService
{
    private readonly Dictionary<string, IScheduledWork> byKind = works.ToDictionary(w => w.Kind, StringComparer.Ordinal);
    private TaskCompletionSource wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DateTimeOffset nextPrune;

    /// <summary>A schedule changed on this replica: look again now instead of at the end of the current sleep.</summary>
    public void Wake() => Interlocked.Exchange(ref wake, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var woken = Volatile.Read(ref wake).Task;
            var sleep = options.PollInterval;
            try
            {
                await RunDueInLanesAsync(stoppingToken);
                await PruneAsync(stoppingToken);
                if (await store.EarliestAsync(stoppingToken) is { } earliest)
                {
                    var until = earliest - time.GetUtcNow();
                    sleep = until < TimeSpan.Zero ? TimeSpan.Zero : until < sleep ? until : sleep;
                }
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                // The store may be briefly unreachable; nothing was committed, so the next tick fires the same runs.
                LogTickFailed(logger, exception);
            }
            try
            {
                await Task.WhenAny(Task.Delay(sleep, time, stoppingToken), woken).WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Fires batches until none comes back full: in several lanes at once on PostgreSQL, where each claim skips the rows
    /// the others hold and their round trips overlap, each lane going on to its next batch as soon as its last committed;
    /// SQLite has one writer, so one lane.
    /// </summary>
    private Task RunDueInLanesAsync(CancellationToken cancellationToken)
    {
        var lanes = database.Provider == StoreProvider.Postgres ? options.PostgresLanes : 1;
        return Task.WhenAll(Enumerable.Range(0, lanes).Select(async _ =>
        {
            while (await RunDueAsync(cancellationToken) >= options.BatchSize)
            {
            }
        }));
    }

    /// <summary>Fires the runs due now, one batch. Returns how many schedules it moved on.</summary>
    public async Task<int> RunDueAsync(CancellationToken cancellationToken)
    {
        var fired = new List<ScheduledRun>();
        int handled;
        try
        {
            handled = await database.WriteAsync((connection, transaction) => FireAsync(connection, transaction, null, fired, cancellationToken), cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // One schedule failed and took the batch's transaction with it: fire the batch one schedule at a time, so the
            // rest go ahead and only the failing one waits for the next tick.
            LogBatchFailed(logger, exception);
            fired.Clear();
            handled = await OneByOneAsync(fired, cancellationToken);
        }
        Announce(fired);
        return handled;
    }

    private async Task<int> OneByOneAsync(List<ScheduledRun> fired, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var due = await database.ReadAsync(connection => store.LockDueAsync(connection, null!, now, options.BatchSize, null, cancellationToken), cancellationToken);
        var handled = 0;
        foreach (var row in due)
        {
            var runs = new List<ScheduledRun>();
            try
            {
                handled += await database.WriteAsync((connection, transaction) => FireAsync(connection, transaction, row.Id, runs, cancellationToken), cancellationToken);
                fired.AddRange(runs);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogScheduleFailed(logger, exception, row.Id);
            }
        }
        return handled;
    }

    private async Task<int> FireAsync(
        DbConnection connection, DbTransaction transaction, string? onlyId, List<ScheduledRun> fired, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var due = await store.LockDueAsync(connection, transaction, now.ToUnixTimeMilliseconds(), options.BatchSize, onlyId, cancellationToken);
        var plans = due.Select(row => (Row: row, Plan: Plan(row, now))).ToList();
        var results = new Dictionary<(string, DateTimeOffset), string?>();
        foreach (var kind in plans.SelectMany(p => p.Plan.Runs).GroupBy(r => r.Kind, StringComparer.Ordinal))
        {
            if (byKind.TryGetValue(kind.Key, out var work))
            {
                var runs = kind.ToList();
                var started = await work.StartAsync(connection, transaction, runs, cancellationToken);
                for (var i = 0; i < runs.Count; i++)
                {
                    results[(runs[i].ScheduleId, runs[i].ScheduledFor)] = started[i];
                }
            }
        }
        // Another scheduler may have fired one of these runs or moved its schedule on since this one read it (on SQLite
        // nothing locks the rows): then the whole transaction is undone rather than fire twice.
        var steps = plans.Select(p => new ScheduleStore.Step(p.Row.Id, p.Row.NextRunAt, p.Plan.Next?.ToUnixTimeMilliseconds(),
            [.. p.Plan.Runs.Select(r => new ScheduleStore.FiredRun(r, results.GetValueOrDefault((r.ScheduleId, r.ScheduledFor))))])).ToList();
        if (!await ScheduleStore.RecordAndAdvanceAsync(connection, transaction, steps, now.ToUnixTimeMilliseconds(), cancellationToken))
        {
            throw new ScheduleRaceException(string.Join(", ", due.Select(r => r.Id)));
        }
        fired.AddRange(plans.SelectMany(p => p.Plan.Runs));
        return due.Count;
    }

    /// <summary>
    /// What to fire for a due schedule. Of its runs due by now, the latest is on time when it is at most
    /// <see cref="SchedulerOptions.MisfireThreshold"/> late, and fires as usual; every other due run was missed (no
    /// scheduler was running). The missed runs fire once together, as a catch-up for the latest of them, when the policy
    /// is <see cref="CatchUpPolicy.Once"/>, and not at all for <see cref="CatchUpPolicy.Skip"/>; the catch-up comes first.
    /// </summary>
    internal (IReadOnlyList<ScheduledRun> Runs, DateTimeOffset? Next) Plan(ScheduleStore.DueRow row, DateTimeOffset now)
    {
        var definition = row.Definition;
        DateTimeOffset? previous = null;
        var latest = DateTimeOffset.FromUnixTimeMilliseconds(row.NextRunAt);
        for (var i = 0; i < 100_000 && Schedules.NextRun(definition, latest) is { } following && following <= now; i++)
        {
            previous = latest;
            latest = following;
        }
        var onTime = now - latest <= options.MisfireThreshold;
        var runs = new List<ScheduledRun>(2);
        if ((onTime ? previous : latest) is { } missed && row.CatchUp != CatchUpPolicy.Skip)
        {
            runs.Add(new ScheduledRun(row.Id, row.Kind, row.WorkspaceId, missed, CatchUp: true));
        }
        if (onTime)
        {
            runs.Add(new ScheduledRun(row.Id, row.Kind, row.WorkspaceId, latest, CatchUp: false));
        }
        return (runs, Schedules.NextRun(definition, now));
    }

    private void Announce(List<ScheduledRun> fired)
    {
        var now = time.GetUtcNow();
        foreach (var run in fired)
        {
            metrics?.ScheduledRunFired(run.ScheduledFor, now, run.CatchUp);
        }
        foreach (var group in fired.GroupBy(r => r.Kind, StringComparer.Ordinal))
        {
            if (byKind.TryGetValue(group.Key, out var work))
            {
                work.Committed([.. group]);
            }
        }
    }

    private async Task PruneAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now < nextPrune)
        {
            return;
        }
        nextPrune = now + TimeSpan.FromHours(1);
        await store.PruneRunsAsync((now - options.RunHistory).ToUnixTimeMilliseconds(), cancellationToken);
    }

    private sealed class ScheduleRaceException(string ids) : Exception($"A run of {ids} was fired by another scheduler first.");

    [LoggerMessage(Level = LogLevel.Error, Message = "The scheduler's tick failed; retrying")]
    private static partial void LogTickFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of due schedules failed; firing them one at a time")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Schedule {ScheduleId} failed to fire; retrying on the next tick")]
    private static partial void LogScheduleFailed(ILogger logger, Exception exception, string scheduleId);
}
