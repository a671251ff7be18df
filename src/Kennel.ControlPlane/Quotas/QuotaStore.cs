using System.Data.Common;
using Dapper;
using Kennel.Contracts.Quotas;
using Kennel.Store;

namespace Kennel.ControlPlane.Quotas;

/// <summary>
/// Workspace limits and usage. An override row holds what an installation admin set (NULL: the default; 0: no limit);
/// <see cref="QuotaOptions.Defaults"/> fills in the rest.
/// </summary>
public sealed class QuotaStore(Database database, QuotaOptions options, TimeProvider time)
{
    private const string Columns = "workspace_id, max_running_sessions, max_vcpus, max_queued_sessions";

    /// <summary>The limits in force for each of <paramref name="workspaceIds"/>, read inside a caller's transaction.</summary>
    internal async Task<Dictionary<string, WorkspaceLimits>> LimitsAsync(
        DbConnection connection, DbTransaction? transaction, IReadOnlyCollection<string> workspaceIds, CancellationToken cancellationToken)
    {
        var limits = workspaceIds.ToDictionary(id => id, _ => options.Defaults, StringComparer.Ordinal);
        if (workspaceIds.Count == 0)
        {
            return limits;
        }
        var rows = await connection.QueryAsync<OverrideRow>(new CommandDefinition(
            $"SELECT {Columns} FROM workspace_quotas WHERE workspace_id {database.InList("ids")}", new { ids = workspaceIds.ToArray() }, transaction,
            cancellationToken: cancellationToken));
        foreach (var row in rows)
        {
            limits[row.WorkspaceId] = row.Apply(options.Defaults);
        }
        return limits;
    }

    public Task<(WorkspaceLimits Limits, IReadOnlyList<string> Overridden, WorkspaceUsage Usage)> GetAsync(string workspaceId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<OverrideRow>(new CommandDefinition(
                $"SELECT {Columns} FROM workspace_quotas WHERE workspace_id = @workspaceId", new { workspaceId }, cancellationToken: cancellationToken));
            var usage = await UsageAsync(connection, null, workspaceId, cancellationToken);
            return (row?.Apply(options.Defaults) ?? options.Defaults, row?.Overridden() ?? [], usage);
        }, cancellationToken);

    public Task SetAsync(string workspaceId, SetQuotaRequest request, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO workspace_quotas ({Columns}, updated_at) VALUES (@workspaceId, @MaxRunningSessions, @MaxVcpus, @MaxQueuedSessions, @now) " +
            "ON CONFLICT (workspace_id) DO UPDATE SET max_running_sessions = excluded.max_running_sessions, max_vcpus = excluded.max_vcpus, " +
            "max_queued_sessions = excluded.max_queued_sessions, updated_at = excluded.updated_at",
            new { workspaceId, request.MaxRunningSessions, request.MaxVcpus, request.MaxQueuedSessions, now = time.GetUtcNow().ToUnixTimeMilliseconds() },
            transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>
    /// Before sessions join a workspace's queue, inside the caller's transaction: the workspace's limits and how many of its
    /// sessions are queued now. On PostgreSQL the workspace's row stays locked until the transaction ends, so concurrent
    /// creates in one workspace count one after another and cannot together pass the queued limit.
    /// </summary>
    internal async Task<(WorkspaceLimits Limits, long Queued)> LockQueueAsync(
        DbConnection connection, DbTransaction transaction, string workspaceId, CancellationToken cancellationToken)
    {
        if (database.Provider == StoreProvider.Postgres)
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT id FROM workspaces WHERE id = @workspaceId FOR UPDATE", new { workspaceId },
                transaction, cancellationToken: cancellationToken));
        }
        var limits = (await LimitsAsync(connection, transaction, [workspaceId], cancellationToken))[workspaceId];
        var queued = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM sessions WHERE workspace_id = @workspaceId AND status = 'pending' AND worker_id IS NULL", new { workspaceId },
            transaction, cancellationToken: cancellationToken));
        return (limits, queued);
    }

    /// <summary>A workspace's claimed sessions with their vCPUs and memory, and its queued sessions.</summary>
    internal static async Task<WorkspaceUsage> UsageAsync(DbConnection connection, DbTransaction? transaction, string workspaceId, CancellationToken cancellationToken) =>
        (await connection.QuerySingleOrDefaultAsync<UsageRow>(new CommandDefinition(
            $"{UsageSql} WHERE s.workspace_id = @workspaceId AND s.status IN ('pending', 'running') GROUP BY w.name", new { workspaceId }, transaction,
            cancellationToken: cancellationToken)))?.ToUsage() ?? new WorkspaceUsage(0, 0, 0, 0);

    /// <summary>The usage of every workspace with sessions queued or claimed, by name: for installation admins.</summary>
    public Task<IReadOnlyList<(string Workspace, WorkspaceUsage Usage)>> UsageByWorkspaceAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<(string, WorkspaceUsage)>>(async connection =>
            [.. (await connection.QueryAsync<UsageRow>(new CommandDefinition(
                $"{UsageSql} WHERE s.status IN ('pending', 'running') GROUP BY w.name ORDER BY w.name", cancellationToken: cancellationToken)))
                .Select(row => (row.Workspace, row.ToUsage()))], cancellationToken);

    private const string UsageSql =
        "SELECT w.name AS workspace, COALESCE(SUM(CASE WHEN s.worker_id IS NOT NULL THEN 1 ELSE 0 END), 0) AS running, " +
        "COALESCE(SUM(CASE WHEN s.worker_id IS NOT NULL THEN s.vcpus ELSE 0 END), 0) AS vcpus, " +
        "COALESCE(SUM(CASE WHEN s.worker_id IS NOT NULL THEN s.memory_mb ELSE 0 END), 0) AS memory_mb, " +
        "COALESCE(SUM(CASE WHEN s.worker_id IS NULL THEN 1 ELSE 0 END), 0) AS queued FROM sessions s JOIN workspaces w ON w.id = s.workspace_id";

    private sealed class UsageRow
    {
        public string Workspace { get; set; } = "";
        public long Running { get; set; }
        public long Vcpus { get; set; }
        public long MemoryMb { get; set; }
        public long Queued { get; set; }

        public WorkspaceUsage ToUsage() => new(Running, Vcpus, MemoryMb, Queued);
    }

    private sealed class OverrideRow
    {
        public string WorkspaceId { get; set; } = "";
        public int? MaxRunningSessions { get; set; }
        public int? MaxVcpus { get; set; }
        public int? MaxQueuedSessions { get; set; }

        public WorkspaceLimits Apply(WorkspaceLimits defaults) => new(
            MaxRunningSessions is { } running ? QuotaOptions.Limit(running) : defaults.MaxRunningSessions,
            MaxVcpus is { } vcpus ? QuotaOptions.Limit(vcpus) : defaults.MaxVcpus,
            MaxQueuedSessions is { } queued ? QuotaOptions.Limit(queued) : defaults.MaxQueuedSessions);

        public IReadOnlyList<string> Overridden() =>
        [
            .. MaxRunningSessions is null ? Array.Empty<string>() : ["maxRunningSessions"],
            .. MaxVcpus is null ? Array.Empty<string>() : ["maxVcpus"],
            .. MaxQueuedSessions is null ? Array.Empty<string>() : ["maxQueuedSessions"],
        ];
    }
}
