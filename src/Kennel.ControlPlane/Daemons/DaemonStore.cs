using System.Data.Common;
using Dapper;
using Kennel.Contracts.Daemons;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Scheduling;
using Kennel.Store;

namespace Kennel.ControlPlane.Daemons;

/// <summary>
/// Daemon queries. Every one names the workspace in its SQL, so a caller never reads or changes another workspace's
/// daemon whatever the name. A daemon's schedule is written in the same transaction as the daemon.
/// </summary>
public sealed class DaemonStore(Database database)
{
    private const string SelectColumns =
        "SELECT d.id, d.workspace_id, w.name AS workspace_name, d.name, d.definition, d.trigger_type, d.signature, d.signature_header, " +
        "d.webhook_secret, d.cron, d.timezone, d.catch_up, d.concurrency, d.status, d.created_at, d.updated_at " +
        "FROM daemons d JOIN workspaces w ON w.id = d.workspace_id";

    /// <summary>Row lock on PostgreSQL for the rest of the transaction; SQLite has one writer at a time anyway.</summary>
    private string ForUpdate => database.Provider == StoreProvider.Postgres ? " FOR UPDATE OF d" : "";

    /// <summary>Inserts a daemon and its schedule. False when the workspace already has a daemon of that name.</summary>
    public Task<bool> InsertAsync(DaemonRow row, ScheduleDefinition? schedule, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var inserted = await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO daemons (id, workspace_id, name, definition, trigger_type, signature, signature_header, webhook_secret, cron, " +
                "timezone, catch_up, concurrency, status, created_at, updated_at) VALUES (@Id, @WorkspaceId, @Name, @Definition, @TriggerType, " +
                "@Signature, @SignatureHeader, @WebhookSecret, @Cron, @Timezone, @CatchUp, @Concurrency, @Status, @CreatedAt, @UpdatedAt) " +
                "ON CONFLICT (workspace_id, name) DO NOTHING", row, transaction, cancellationToken: cancellationToken));
            if (inserted == 0)
            {
                return false;
            }
            if (schedule is not null)
            {
                await ScheduleStore.SaveAsync(connection, transaction, schedule, row.Status == DaemonValues.Active, now, cancellationToken);
            }
            return true;
        }, cancellationToken);

    /// <summary>Replaces a daemon's definition (matched by id within its workspace) and its schedule, or removes the schedule.</summary>
    public Task UpdateAsync(DaemonRow row, ScheduleDefinition? schedule, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE daemons SET definition = @Definition, trigger_type = @TriggerType, signature = @Signature, " +
                "signature_header = @SignatureHeader, webhook_secret = @WebhookSecret, cron = @Cron, timezone = @Timezone, catch_up = @CatchUp, " +
                "concurrency = @Concurrency, status = @Status, updated_at = @UpdatedAt WHERE workspace_id = @WorkspaceId AND id = @Id",
                row, transaction, cancellationToken: cancellationToken));
            if (schedule is null)
            {
                await ScheduleStore.DeleteAsync(connection, transaction, row.Id, cancellationToken);
            }
            else
            {
                await ScheduleStore.SaveAsync(connection, transaction, schedule, row.Status == DaemonValues.Active, now, cancellationToken);
            }
        }, cancellationToken);

    /// <summary>Removes a daemon and its schedule. Its sessions stay, still naming it.</summary>
    public Task<bool> DeleteAsync(string workspaceId, string name, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var id = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT id FROM daemons WHERE workspace_id = @workspaceId AND name = @name", new { workspaceId, name }, transaction,
                cancellationToken: cancellationToken));
            if (id is null)
            {
                return false;
            }
            await ScheduleStore.DeleteAsync(connection, transaction, id, cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM daemons WHERE workspace_id = @workspaceId AND id = @id", new { workspaceId, id }, transaction,
                cancellationToken: cancellationToken));
            return true;
        }, cancellationToken);

    public Task<DaemonRow?> GetAsync(string workspaceId, string name, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<DaemonRow>(new CommandDefinition(
            $"{SelectColumns} WHERE d.workspace_id = @workspaceId AND d.name = @name", new { workspaceId, name }, cancellationToken: cancellationToken)),
            cancellationToken);

    /// <summary>The daemon a public webhook URL names, by workspace name and daemon name.</summary>
    public Task<DaemonRow?> FindByWorkspaceNameAsync(string workspaceName, string name, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<DaemonRow>(new CommandDefinition(
            $"{SelectColumns} WHERE w.name = @workspaceName AND d.name = @name", new { workspaceName, name }, cancellationToken: cancellationToken)),
            cancellationToken);

    public Task<IReadOnlyList<DaemonRow>> ListAsync(string workspaceId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<DaemonRow>>(async connection => [.. await connection.QueryAsync<DaemonRow>(new CommandDefinition(
            $"{SelectColumns} WHERE d.workspace_id = @workspaceId ORDER BY d.name", new { workspaceId }, cancellationToken: cancellationToken))],
            cancellationToken);

    /// <summary>When each of these daemons' schedules next fires.</summary>
    public Task<Dictionary<string, DateTimeOffset>> NextRunsAsync(IReadOnlyList<string> daemonIds, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => ScheduleStore.NextRunsAsync(connection, database, daemonIds, cancellationToken), cancellationToken);

    /// <summary>
    /// Locks daemons (by id, within the given workspaces) for a trigger's transaction, in id order; a daemon that is gone
    /// is absent. The scheduler's batches span workspaces, so the caller checks each daemon's workspace against its own.
    /// </summary>
    internal async Task<Dictionary<string, DaemonRow>> LockAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<string> workspaceIds, IReadOnlyList<string> ids, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<DaemonRow>(new CommandDefinition(
            $"{SelectColumns} WHERE d.workspace_id {database.InList("workspaceIds")} AND d.id {database.InList("ids")} ORDER BY d.id{ForUpdate}",
            new { workspaceIds = workspaceIds.ToArray(), ids = ids.ToArray() }, transaction, cancellationToken: cancellationToken)))
            .ToDictionary(d => d.Id, StringComparer.Ordinal);

    public Task<(IReadOnlyList<DaemonSessionSummary> Recent, DaemonTotals Totals)> HistoryAsync(
        string workspaceId, string daemonId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            var recent = await connection.QueryAsync<HistoryRow>(new CommandDefinition(
                "SELECT id, status, trigger_type, catch_up, exit_code, created_at, ended_at FROM sessions " +
                "WHERE workspace_id = @workspaceId AND daemon_id = @daemonId ORDER BY id DESC LIMIT @limit",
                new { workspaceId, daemonId, limit = DaemonValues.RecentSessions }, cancellationToken: cancellationToken));
            var totals = await connection.QuerySingleAsync<TotalsRow>(new CommandDefinition(
                "SELECT COUNT(*) AS sessions, COALESCE(SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END), 0) AS succeeded, " +
                "COALESCE(SUM(CASE WHEN status IN ('failed', 'timed_out') THEN 1 ELSE 0 END), 0) AS failed, " +
                "COALESCE(SUM(vcpu_seconds), 0) AS vcpu_seconds, COALESCE(SUM(cpu_seconds), 0) AS cpu_seconds " +
                "FROM sessions WHERE workspace_id = @workspaceId AND daemon_id = @daemonId",
                new { workspaceId, daemonId }, cancellationToken: cancellationToken));
            IReadOnlyList<DaemonSessionSummary> summaries = [.. recent.Select(r => r.ToSummary())];
            return (summaries, new DaemonTotals(totals.Sessions, totals.Succeeded, totals.Failed,
                Math.Round(totals.VcpuSeconds, 3), Math.Round(totals.CpuSeconds, 3)));
        }, cancellationToken);

    private sealed class HistoryRow
    {
        public string Id { get; set; } = "";
        public string Status { get; set; } = "";
        public string? TriggerType { get; set; }
        public long CatchUp { get; set; }
        public int? ExitCode { get; set; }
        public long CreatedAt { get; set; }
        public long? EndedAt { get; set; }

        public DaemonSessionSummary ToSummary() => new()
        {
            Id = Id,
            Status = SessionStatuses.TryParse(Status, out var status) ? status : SessionStatus.Failed,
            Trigger = TriggerType ?? "",
            CatchUp = CatchUp != 0 ? true : null,
            ExitCode = ExitCode,
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
            EndedAt = EndedAt is { } ended ? DateTimeOffset.FromUnixTimeMilliseconds(ended) : null,
        };
    }

    private sealed class TotalsRow
    {
        public long Sessions { get; set; }
        public long Succeeded { get; set; }
        public long Failed { get; set; }
        public double VcpuSeconds { get; set; }
        public double CpuSeconds { get; set; }
    }
}
