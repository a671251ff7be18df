using System.Data.Common;
using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.Scheduling;

/// <summary>
/// The <c>schedules</c> and <c>schedule_runs</c> tables. Owners write their schedule in their own transaction (so a
/// daemon and its schedule change together); the scheduler claims due rows under a row lock on PostgreSQL and the single
/// writer on SQLite, and moves each schedule on with a conditional update, so a run fires once across replicas.
/// </summary>
public sealed class ScheduleStore(Database database)
{
    /// <summary>
    /// Creates or replaces a schedule. A paused one (<paramref name="active"/> false) keeps no next run. An active one
    /// whose expression and zone are unchanged keeps the next run it had, so editing something else of its owner
    /// never moves (or skips) a run that is due.
    /// </summary>
    public static Task SaveAsync(
        DbConnection connection, DbTransaction transaction, ScheduleDefinition schedule, bool active, DateTimeOffset now, CancellationToken cancellationToken)
    {
        long? next = active ? Schedules.NextRun(schedule, now)?.ToUnixTimeMilliseconds() : null;
        return connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO schedules (id, kind, workspace_id, cron, timezone, catch_up, next_run_at) " +
            "VALUES (@Id, @Kind, @WorkspaceId, @Cron, @Timezone, @CatchUp, @next) " +
            "ON CONFLICT (id) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone, catch_up = excluded.catch_up, " +
            "next_run_at = CASE WHEN schedules.cron = excluded.cron AND schedules.timezone = excluded.timezone " +
            "AND schedules.next_run_at IS NOT NULL AND excluded.next_run_at IS NOT NULL THEN schedules.next_run_at ELSE excluded.next_run_at END",
            new { schedule.Id, schedule.Kind, schedule.WorkspaceId, schedule.Cron, schedule.Timezone, schedule.CatchUp, next },
            transaction, cancellationToken: cancellationToken));
    }

    public static Task DeleteAsync(DbConnection connection, DbTransaction transaction, string id, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("DELETE FROM schedules WHERE id = @id", new { id }, transaction, cancellationToken: cancellationToken));

    /// <summary>When the schedules of <paramref name="ids"/> next fire (absent: paused or unknown).</summary>
    public static async Task<Dictionary<string, DateTimeOffset>> NextRunsAsync(
        DbConnection connection, Database database, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return [];
        }
        var rows = await connection.QueryAsync<(string Id, long NextRunAt)>(new CommandDefinition(
            $"SELECT id, next_run_at FROM schedules WHERE id {database.InList("ids")} AND next_run_at IS NOT NULL",
            new { ids = ids.ToArray() }, cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.Id, r => DateTimeOffset.FromUnixTimeMilliseconds(r.NextRunAt), StringComparer.Ordinal);
    }

    /// <summary>The earliest next run of any schedule, for the scheduler's sleep.</summary>
    public Task<DateTimeOffset?> EarliestAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            var next = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                "SELECT MIN(next_run_at) FROM schedules WHERE next_run_at IS NOT NULL", cancellationToken: cancellationToken));
            return next is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : (DateTimeOffset?)null;
        }, cancellationToken);

    internal sealed class DueRow
    {
        public string Id { get; set; } = "";
        public string Kind { get; set; } = "";
        public string WorkspaceId { get; set; } = "";
        public string Cron { get; set; } = "";
        public string Timezone { get; set; } = "";
        public string CatchUp { get; set; } = "";
        public long NextRunAt { get; set; }

        public ScheduleDefinition Definition => new(Id, Kind, WorkspaceId, Cron, Timezone, CatchUp);
    }

    /// <summary>Due schedules, oldest due first, locked for this transaction on PostgreSQL (others skip them).</summary>
    internal async Task<List<DueRow>> LockDueAsync(
        DbConnection connection, DbTransaction transaction, long now, int limit, string? onlyId, CancellationToken cancellationToken) =>
        [.. await connection.QueryAsync<DueRow>(new CommandDefinition(
            "SELECT id, kind, workspace_id, cron, timezone, catch_up, next_run_at FROM schedules " +
            "WHERE next_run_at IS NOT NULL AND next_run_at <= @now" + (onlyId is null ? "" : " AND id = @onlyId") +
            " ORDER BY next_run_at LIMIT @limit" + database.SkipLocked,
            new { now, limit, onlyId }, transaction, cancellationToken: cancellationToken))];

    /// <summary>One due schedule's outcome in a batch: the runs it fired (none, one, or a catch-up and an on-time run), and its next time.</summary>
    internal sealed record Step(string Id, long Due, long? Next, IReadOnlyList<FiredRun> Runs);

    /// <summary>A run fired in a batch, with what it started (null: its owner declined or is gone).</summary>
    internal sealed record FiredRun(ScheduledRun Run, string? Result);

    /// <summary>
    /// Records the batch's runs with what they started and moves each schedule on from the due time this transaction
    /// read. False when a run's key was taken or a schedule had moved: another scheduler got there first.
    /// </summary>
    internal static async Task<bool> RecordAndAdvanceAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<Step> steps, long firedAt, CancellationToken cancellationToken)
    {
        if (steps.Count == 0)
        {
            return true;
        }
        if (!Database.TakesArrays(connection))
        {
            return await RecordAndAdvanceEachAsync(connection, transaction, steps, firedAt, cancellationToken);
        }
        var runs = steps.SelectMany(s => s.Runs).ToList();
        var changed = await connection.ExecuteScalarAsync<long>(new CommandDefinition(RecordAndAdvanceArraysSql, new
        {
            firedAt,
            runIds = runs.Select(r => r.Run.ScheduleId).ToArray(),
            runFor = runs.Select(r => r.Run.ScheduledFor.ToUnixTimeMilliseconds()).ToArray(),
            runCatchUp = runs.Select(r => r.Run.CatchUp ? 1 : 0).ToArray(),
            runResult = runs.Select(r => r.Result).ToArray(),
            ids = steps.Select(s => s.Id).ToArray(),
            dues = steps.Select(s => s.Due).ToArray(),
            nexts = steps.Select(s => s.Next).ToArray(),
        }, transaction, cancellationToken: cancellationToken));
        return changed == steps.Count + runs.Count;
    }

    // PostgreSQL: the whole batch in one statement of fixed text over arrays, counting the rows it recorded and moved.
    // Both parts run whatever the other does; a taken key inserts nothing and a moved schedule updates nothing, so the
    // count falls short.
    private const string RecordAndAdvanceArraysSql =
        "WITH recorded AS (INSERT INTO schedule_runs (schedule_id, scheduled_for, fired_at, catch_up, result) " +
        "SELECT r.id, r.scheduled_for, @firedAt, r.catch_up, r.result " +
        "FROM unnest(@runIds::text[], @runFor::bigint[], @runCatchUp::integer[], @runResult::text[]) AS r (id, scheduled_for, catch_up, result) " +
        "ON CONFLICT (schedule_id, scheduled_for) DO NOTHING RETURNING 1), " +
        "moved AS (UPDATE schedules s SET next_run_at = m.next_run_at " +
        "FROM unnest(@ids::text[], @dues::bigint[], @nexts::bigint[]) AS m (id, due, next_run_at) " +
        "WHERE s.id = m.id AND s.next_run_at = m.due RETURNING 1) " +
        "SELECT (SELECT COUNT(*) FROM recorded) + (SELECT COUNT(*) FROM moved)";

    private static async Task<bool> RecordAndAdvanceEachAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<Step> steps, long firedAt, CancellationToken cancellationToken)
    {
        using var record = new RowStatement(connection, transaction,
            "INSERT INTO schedule_runs (schedule_id, scheduled_for, fired_at, catch_up, result) VALUES (@id, @scheduledFor, @firedAt, @catchUp, @result) " +
            "ON CONFLICT (schedule_id, scheduled_for) DO NOTHING",
            "id", "scheduledFor", "firedAt", "catchUp", "result");
        using var advance = new RowStatement(connection, transaction,
            "UPDATE schedules SET next_run_at = @next WHERE id = @id AND next_run_at = @due", "next", "id", "due");
        foreach (var step in steps)
        {
            foreach (var (run, result) in step.Runs)
            {
                if (await record.ExecuteAsync(cancellationToken, step.Id, run.ScheduledFor.ToUnixTimeMilliseconds(), firedAt, run.CatchUp ? 1 : 0, result) != 1)
                {
                    return false;
                }
            }
            if (await advance.ExecuteAsync(cancellationToken, step.Next, step.Id, step.Due) != 1)
            {
                return false;
            }
        }
        return true;
    }

    internal Task<int> PruneRunsAsync(long before, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM schedule_runs WHERE fired_at < @before", new { before }, transaction, cancellationToken: cancellationToken)), cancellationToken);
}
