using System.Data.Common;
using System.Text;
using Dapper;
using Kennel.Contracts.Sessions;
using Kennel.Store;

namespace Kennel.ControlPlane.Sessions;

/// <summary>
/// Session queries for people and their tools. Every one of them names the workspace in its SQL, so a caller can never
/// read or change another workspace's session, whatever the id.
/// </summary>
public sealed class SessionStore(Database database)
{
    internal const string SelectColumns =
        "SELECT s.id, s.workspace_id, w.name AS workspace_name, s.status, s.snapshot, s.snapshot_digest, s.spec, s.vcpus, s.memory_mb, s.timeout_ms, " +
        "s.exit_code, s.stdout, s.stderr, s.truncated, s.error_code, s.error_message, s.created_at, s.started_at, s.ended_at, " +
        "s.worker_id, s.lease_expires_at, s.cancel_requested_at, s.vcpu_seconds, s.cpu_seconds, s.daemon, s.trigger_type, s.scheduled_for, s.catch_up, s.egress " +
        "FROM sessions s JOIN workspaces w ON w.id = s.workspace_id";

    internal const string NonTerminal = "('pending', 'running')";

    private static async Task InsertEachAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<SessionRow> rows, CancellationToken cancellationToken)
    {
        using var insert = new RowStatement(connection, transaction,
            $"INSERT INTO sessions ({InsertColumns}) VALUES (@id, @workspaceId, @status, @snapshot, @spec, @vcpus, @memoryMb, " +
            "@timeoutMs, @createdAt, @daemonId, @daemon, @triggerType, @scheduledFor, @catchUp, @held, @traceParent)",
            "id", "workspaceId", "status", "snapshot", "spec", "vcpus", "memoryMb", "timeoutMs", "createdAt", "daemonId", "daemon", "triggerType",
            "scheduledFor", "catchUp", "held", "traceParent");
        foreach (var row in rows)
        {
            await insert.ExecuteAsync(cancellationToken, row.Id, row.WorkspaceId, row.Status, row.Snapshot, row.Spec, row.Vcpus, row.MemoryMb,
                row.TimeoutMs, row.CreatedAt, row.DaemonId, row.Daemon, row.TriggerType, row.ScheduledFor, row.CatchUp, row.Held, row.TraceParent);
        }
    }

    private const string InsertColumns =
        "id, workspace_id, status, snapshot, spec, vcpus, memory_mb, timeout_ms, created_at, daemon_id, daemon, trigger_type, scheduled_for, catch_up, held, trace_parent";

    // One statement whatever the number of rows: a column per array parameter, so PostgreSQL parses and plans the same
    // text every time instead of a statement per row.
    private const string InsertArraysSql =
        $"INSERT INTO sessions ({InsertColumns}) SELECT * FROM unnest(@id::text[], @workspaceId::text[], @status::text[], @snapshot::text[], " +
        "@spec::text[], @vcpus::integer[], @memoryMb::integer[], @timeoutMs::bigint[], @createdAt::bigint[], @daemonId::text[], @daemon::text[], " +
        "@triggerType::text[], @scheduledFor::bigint[], @catchUp::integer[], @held::integer[], @traceParent::text[])";

    /// <summary>
    /// Inserts sessions inside a caller's transaction (such as the one that fires a batch of scheduled runs): on PostgreSQL
    /// in one statement over arrays, one round trip; on SQLite, in process, one statement compiled once and run per row.
    /// </summary>
    internal static Task InsertAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<SessionRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return Task.CompletedTask;
        }
        if (!Database.TakesArrays(connection))
        {
            return InsertEachAsync(connection, transaction, rows, cancellationToken);
        }
        return connection.ExecuteAsync(new CommandDefinition(InsertArraysSql, new
        {
            id = rows.Select(r => r.Id).ToArray(),
            workspaceId = rows.Select(r => r.WorkspaceId).ToArray(),
            status = rows.Select(r => r.Status).ToArray(),
            snapshot = rows.Select(r => r.Snapshot).ToArray(),
            spec = rows.Select(r => r.Spec).ToArray(),
            vcpus = rows.Select(r => r.Vcpus).ToArray(),
            memoryMb = rows.Select(r => r.MemoryMb).ToArray(),
            timeoutMs = rows.Select(r => r.TimeoutMs).ToArray(),
            createdAt = rows.Select(r => r.CreatedAt).ToArray(),
            daemonId = rows.Select(r => r.DaemonId).ToArray(),
            daemon = rows.Select(r => r.Daemon).ToArray(),
            triggerType = rows.Select(r => r.TriggerType).ToArray(),
            scheduledFor = rows.Select(r => r.ScheduledFor).ToArray(),
            catchUp = rows.Select(r => (int)r.CatchUp).ToArray(),
            held = rows.Select(r => (int)r.Held).ToArray(),
            traceParent = rows.Select(r => r.TraceParent).ToArray(),
        }, transaction, cancellationToken: cancellationToken));
    }

    public async Task<Session?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        var row = await database.ReadRowAsync<SessionRow>(GetSql, [("workspaceId", workspaceId), ("id", id)], cancellationToken);
        return row is null ? null
            : IsLive(row) ? await database.ReadAsync(connection => WithLiveOutputAsync(connection, row, cancellationToken), cancellationToken)
            : row.ToContract();
    }

    private const string GetSql = $"{SelectColumns} WHERE s.workspace_id = @workspaceId AND s.id = @id";

    public Task<IReadOnlyList<Session>> ListAsync(
        string workspaceId, IReadOnlyList<string> statuses, int limit, string? before, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<Session>>(async connection =>
        {
            var sql = new StringBuilder($"{SelectColumns} WHERE s.workspace_id = @workspaceId");
            if (statuses.Count > 0)
            {
                sql.Append(" AND s.status ").Append(database.InList("statuses"));
            }
            if (before is not null)
            {
                sql.Append(" AND s.id < @before");
            }
            sql.Append(" ORDER BY s.id DESC LIMIT @limit");
            var rows = await connection.QueryAsync<SessionRow>(new CommandDefinition(
                sql.ToString(), new { workspaceId, statuses = statuses.ToArray(), before, limit }, cancellationToken: cancellationToken));
            var sessions = new List<Session>();
            foreach (var row in rows)
            {
                sessions.Add(await WithLiveOutputAsync(connection, row, cancellationToken));
            }
            return sessions;
        }, cancellationToken);

    /// <summary>Output chunks of a live session from the given byte offsets on, for following it.</summary>
    public Task<IReadOnlyList<OutputChunkRow>> ReadOutputAsync(
        string workspaceId, string id, long stdoutFrom, long stderrFrom, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<OutputChunkRow>>(async connection => [.. await connection.QueryAsync<OutputChunkRow>(new CommandDefinition(
            "SELECT o.stream, o.byte_offset, o.data FROM session_output o JOIN sessions s ON s.id = o.session_id " +
            "WHERE s.workspace_id = @workspaceId AND o.session_id = @id " +
            "AND ((o.stream = 'stdout' AND o.byte_offset >= @stdoutFrom) OR (o.stream = 'stderr' AND o.byte_offset >= @stderrFrom)) " +
            "ORDER BY o.byte_offset", new { workspaceId, id, stdoutFrom, stderrFrom }, cancellationToken: cancellationToken))], cancellationToken);

    public enum CancelResult { NotFound, Cancelled, Requested, AlreadyFinished }

    /// <summary>
    /// A session no worker holds yet is cancelled on the spot. One a worker holds is marked, and the worker is told on its
    /// next poll; it kills the workload and reports <c>cancelled</c>.
    /// </summary>
    public Task<CancelResult> CancelAsync(string workspaceId, string id, long now, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var status = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT status FROM sessions WHERE workspace_id = @workspaceId AND id = @id", new { workspaceId, id }, transaction,
                cancellationToken: cancellationToken));
            if (status is null)
            {
                return CancelResult.NotFound;
            }
            if (!SessionStatuses.TryParse(status, out var parsed) || parsed.IsTerminal())
            {
                return CancelResult.AlreadyFinished;
            }
            var queued = await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE sessions SET status = 'cancelled', ended_at = @now WHERE workspace_id = @workspaceId AND id = @id " +
                "AND status = 'pending' AND worker_id IS NULL", new { workspaceId, id, now }, transaction, cancellationToken: cancellationToken));
            if (queued == 1)
            {
                return CancelResult.Cancelled;
            }
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE sessions SET cancel_requested_at = COALESCE(cancel_requested_at, @now) WHERE workspace_id = @workspaceId AND id = @id",
                new { workspaceId, id, now }, transaction, cancellationToken: cancellationToken));
            return CancelResult.Requested;
        }, cancellationToken);

    /// <summary>
    /// Ends a live session: folds its output chunks into the row and records the outcome. False when it had already ended,
    /// so two paths racing to finish one session (an exit and a lost lease, say) cannot both win.
    /// </summary>
    internal static async Task<bool> FinishAsync(
        DbConnection connection, DbTransaction transaction, string id, SessionOutcome outcome, long now, CancellationToken cancellationToken)
    {
        var chunks = (await connection.QueryAsync<OutputChunkRow>(new CommandDefinition(
            "SELECT stream, byte_offset, data FROM session_output WHERE session_id = @id ORDER BY byte_offset", new { id }, transaction,
            cancellationToken: cancellationToken))).ToList();
        var wallMs = (long)(outcome.WallSeconds * 1000);
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE sessions SET status = @status, exit_code = @exitCode, " +
            // A reason recorded with the cancel request (a drained server's, say) stays when the worker reports none.
            "error_code = COALESCE(@errorCode, error_code), error_message = COALESCE(@errorMessage, error_message), " +
            "ended_at = @now, started_at = COALESCE(started_at, @startedAt), stdout = @stdout, stderr = @stderr, " +
            "vcpu_seconds = vcpus * @wallSeconds, cpu_seconds = @cpuSeconds, lease_expires_at = NULL, egress = @egress " +
            "WHERE id = @id AND status IN " + NonTerminal,
            new
            {
                id,
                status = outcome.Status.ToWire(),
                exitCode = outcome.ExitCode,
                errorCode = outcome.Error?.Code,
                errorMessage = outcome.Error?.Message,
                now,
                startedAt = wallMs > 0 ? now - wallMs : (long?)null,
                stdout = Concat(chunks, "stdout"),
                stderr = Concat(chunks, "stderr"),
                wallSeconds = outcome.WallSeconds,
                cpuSeconds = outcome.CpuSeconds,
                egress = outcome.Egress is { } egress ? System.Text.Json.JsonSerializer.Serialize(egress, StoreJson.Default.SessionEgress) : null,
            }, transaction, cancellationToken: cancellationToken));
        if (updated == 1)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM session_output WHERE session_id = @id", new { id }, transaction, cancellationToken: cancellationToken));
        }
        return updated == 1;
    }

    // A live session's output is still in chunks; a finished one has it in its row.
    private static bool IsLive(SessionRow row) => row.Status is "pending" or "running";

    private static async Task<Session> WithLiveOutputAsync(DbConnection connection, SessionRow row, CancellationToken cancellationToken)
    {
        if (!IsLive(row))
        {
            return row.ToContract();
        }
        var chunks = (await connection.QueryAsync<OutputChunkRow>(new CommandDefinition(
            "SELECT stream, byte_offset, data FROM session_output WHERE session_id = @Id ORDER BY byte_offset", new { row.Id },
            cancellationToken: cancellationToken))).ToList();
        return row.ToContract(Concat(chunks, "stdout"), Concat(chunks, "stderr"));
    }

    private static string Concat(List<OutputChunkRow> chunks, string stream)
    {
        var builder = new StringBuilder();
        foreach (var chunk in chunks.Where(c => c.Stream == stream))
        {
            builder.Append(chunk.Data);
        }
        return builder.ToString();
    }
}
