using System.Data.Common;
using System.Text;
using Dapper;
using Kennel.Contracts.Conversations;
using Kennel.Store;

namespace Kennel.ControlPlane.Runs;

/// <summary>
/// Run queries. Those for people and their tools name the workspace in their SQL. The executor's claims span every
/// workspace by design (any control plane runs any workspace's runs), like the session queue's; they are not reachable
/// from any API.
/// </summary>
public sealed class RunStore(Database database)
{
    internal const string Columns =
        "id, workspace_id, conversation_id, agent, status, message, answer, error_code, error_message, tool_steps, input_tokens, " +
        "output_tokens, cache_read_tokens, cache_write_tokens, created_at, started_at, ended_at, owner, lease_expires_at, cancel_requested_at, " +
        "timeout_ms, token_budget";

    internal const string Live = "('queued', 'running')";

    public Task InsertAsync(RunRow row, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => InsertAsync(connection, transaction, row, cancellationToken), cancellationToken);

    /// <summary>
    /// Queues a run inside the caller's transaction, so its owner (a cron job's firing) commits it with its own rows or not
    /// at once. The run's limits must be within <see cref="RunLimits"/>; the caller pulses the run queue after its commit.
    /// </summary>
    internal static Task InsertAsync(DbConnection connection, DbTransaction transaction, RunRow row, CancellationToken cancellationToken)
    {
        RunLimits.Require(row);
        return connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO runs (id, workspace_id, conversation_id, agent, status, message, created_at, timeout_ms, token_budget) " +
            "VALUES (@Id, @WorkspaceId, @ConversationId, @Agent, 'queued', @Message, @CreatedAt, @TimeoutMs, @TokenBudget)", row, transaction,
            cancellationToken: cancellationToken));
    }

    public Task<RunRow?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        database.ReadRowAsync<RunRow>($"SELECT {Columns} FROM runs WHERE workspace_id = @workspaceId AND id = @id",
            [("workspaceId", workspaceId), ("id", id)], cancellationToken);

    public Task<RunRow?> ActiveAsync(string workspaceId, string conversationId, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QueryFirstOrDefaultAsync<RunRow>(new CommandDefinition(
            $"SELECT {Columns} FROM runs WHERE workspace_id = @workspaceId AND conversation_id = @conversationId AND status IN {Live} ORDER BY id",
            new { workspaceId, conversationId }, cancellationToken: cancellationToken)), cancellationToken);

    public Task<List<RunRow>> ListAsync(string workspaceId, string? conversationId, IReadOnlyList<string> statuses, string? before, int limit,
        CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            var sql = new StringBuilder($"SELECT {Columns} FROM runs WHERE workspace_id = @workspaceId");
            if (conversationId is not null)
            {
                sql.Append(" AND conversation_id = @conversationId");
            }
            if (statuses.Count > 0)
            {
                sql.Append(" AND status ").Append(database.InList("statuses"));
            }
            if (before is not null)
            {
                sql.Append(" AND id < @before");
            }
            sql.Append(" ORDER BY id DESC LIMIT @limit");
            return (await connection.QueryAsync<RunRow>(new CommandDefinition(sql.ToString(),
                new { workspaceId, conversationId, statuses = statuses.ToArray(), before, limit }, cancellationToken: cancellationToken))).ToList();
        }, cancellationToken);

    public enum CancelResult { NotFound, Cancelled, Requested, AlreadyFinished }

    /// <summary>A queued run is cancelled on the spot; a running one is marked, and the control plane running it stops it.</summary>
    public Task<CancelResult> CancelAsync(string workspaceId, string id, long now, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var status = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT status FROM runs WHERE workspace_id = @workspaceId AND id = @id", new { workspaceId, id }, transaction,
                cancellationToken: cancellationToken));
            if (status is null)
            {
                return CancelResult.NotFound;
            }
            if (status is not ("queued" or "running"))
            {
                return CancelResult.AlreadyFinished;
            }
            if (await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE runs SET status = 'cancelled', ended_at = @now, error_code = 'cancelled', error_message = 'The run was cancelled before it started.' " +
                "WHERE workspace_id = @workspaceId AND id = @id AND status = 'queued'",
                new { workspaceId, id, now }, transaction, cancellationToken: cancellationToken)) == 1)
            {
                return CancelResult.Cancelled;
            }
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE runs SET cancel_requested_at = COALESCE(cancel_requested_at, @now) WHERE workspace_id = @workspaceId AND id = @id",
                new { workspaceId, id, now }, transaction, cancellationToken: cancellationToken));
            return CancelResult.Requested;
        }, cancellationToken);

    /// <summary>
    /// Claims runs for <paramref name="owner"/>: each conversation's oldest live run, if it is queued or its lease ran out
    /// (its control plane died). The candidates are read first, so an idle executor's poll writes nothing; the
    /// conditional update then decides between replicas racing for the same run.
    /// </summary>
    public async Task<List<RunRow>> ClaimAsync(string owner, long now, long lease, int limit, CancellationToken cancellationToken)
    {
        var candidates = await database.ReadAsync(async connection => (await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT r.id FROM runs r WHERE r.status IN {Live} AND (r.status = 'queued' OR r.lease_expires_at IS NULL OR r.lease_expires_at < @now) " +
            $"AND NOT EXISTS (SELECT 1 FROM runs e WHERE e.conversation_id = r.conversation_id AND e.status IN {Live} AND e.id < r.id) " +
            "ORDER BY r.id LIMIT @limit", new { now, limit }, cancellationToken: cancellationToken))).ToList(), cancellationToken);
        if (candidates.Count == 0)
        {
            return [];
        }
        return await database.WriteAsync(async (connection, transaction) =>
        {
            var claimed = new List<RunRow>();
            foreach (var id in candidates)
            {
                if (await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE runs SET status = 'running', owner = @owner, lease_expires_at = @lease, started_at = COALESCE(started_at, @now) " +
                    $"WHERE id = @id AND status IN {Live} AND (status = 'queued' OR lease_expires_at IS NULL OR lease_expires_at < @now)",
                    new { id, owner, lease, now }, transaction, cancellationToken: cancellationToken)) == 1)
                {
                    claimed.Add(await connection.QuerySingleAsync<RunRow>(new CommandDefinition(
                        $"SELECT {Columns} FROM runs WHERE id = @id", new { id }, transaction, cancellationToken: cancellationToken)));
                }
            }
            return claimed;
        }, cancellationToken);
    }

    /// <summary>Extends the leases of what <paramref name="owner"/> runs, and returns those whose cancel was asked for.</summary>
    public Task<List<string>> RenewAsync(string owner, long lease, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE runs SET lease_expires_at = @lease WHERE owner = @owner AND status = 'running'", new { owner, lease }, transaction,
                cancellationToken: cancellationToken));
            return (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT id FROM runs WHERE owner = @owner AND status = 'running' AND cancel_requested_at IS NOT NULL", new { owner }, transaction,
                cancellationToken: cancellationToken))).ToList();
        }, cancellationToken);

    /// <summary>The runs of <paramref name="owner"/> whose cancel was asked for: a cheap read the executor makes often.</summary>
    public Task<List<string>> CancelRequestedAsync(string owner, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection => (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT id FROM runs WHERE owner = @owner AND status = 'running' AND cancel_requested_at IS NOT NULL", new { owner },
            cancellationToken: cancellationToken))).ToList(), cancellationToken);

    /// <summary>
    /// Runs this store's only writer held before it restarted: a SQLite store belongs to one process, so they are this
    /// process's to resume at once rather than after their lease.
    /// </summary>
    public Task ExpireAllLeasesAsync(CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runs SET lease_expires_at = 0 WHERE status = 'running'", transaction: transaction, cancellationToken: cancellationToken)),
            cancellationToken);

    /// <summary>Gives back every run <paramref name="owner"/> holds (it is stopping), so whichever control plane claims them next resumes them.</summary>
    public Task ReleaseAllAsync(string owner, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runs SET lease_expires_at = 0, owner = NULL WHERE owner = @owner AND status = 'running'", new { owner },
            transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Gives a run back (this control plane is stopping) so another claims it at once.</summary>
    public Task ReleaseAsync(string id, string owner, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runs SET lease_expires_at = 0, owner = NULL WHERE id = @id AND owner = @owner AND status = 'running'", new { id, owner },
            transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>
    /// Inside a step's transaction: confirms <paramref name="owner"/> still holds the run, so a control plane that lost its
    /// lease (paused, cut off) can never commit a step beside the one that took the run over.
    /// </summary>
    internal static async Task HoldAsync(DbConnection connection, DbTransaction transaction, string id, string owner, long lease,
        CancellationToken cancellationToken)
    {
        if (await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runs SET lease_expires_at = @lease WHERE id = @id AND owner = @owner AND status = 'running'", new { id, owner, lease },
            transaction, cancellationToken: cancellationToken)) != 1)
        {
            throw new RunLostException(id);
        }
    }

    internal static Task AddStepAsync(DbConnection connection, DbTransaction transaction, string id, Kennel.Agents.Providers.TokenUsage usage,
        int toolSteps, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runs SET input_tokens = input_tokens + @Input, output_tokens = output_tokens + @Output, " +
            "cache_read_tokens = cache_read_tokens + @CacheRead, cache_write_tokens = cache_write_tokens + @CacheWrite, " +
            "tool_steps = tool_steps + @toolSteps WHERE id = @id",
            new { id, usage.Input, usage.Output, usage.CacheRead, usage.CacheWrite, toolSteps }, transaction, cancellationToken: cancellationToken));

    /// <summary>Ends a run this owner holds; false when it no longer holds it.</summary>
    public Task<bool> FinishAsync(string id, string owner, RunOutcome outcome, long now, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) => await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runs SET status = @status, answer = @Answer, error_code = @code, error_message = @message, ended_at = @now, " +
            "lease_expires_at = NULL WHERE id = @id AND owner = @owner AND status = 'running'",
            new { id, owner, status = outcome.Status.ToWire(), outcome.Answer, code = outcome.Error?.Code, message = outcome.Error?.Message, now },
            transaction, cancellationToken: cancellationToken)) == 1, cancellationToken);

    /// <summary>Ends a run that cannot start (its conversation is gone), whoever claimed it.</summary>
    public Task FailAsync(string id, RunError error, long now, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE runs SET status = 'failed', error_code = @Code, error_message = @Message, ended_at = @now WHERE id = @id AND status IN {Live}",
            new { id, error.Code, error.Message, now }, transaction, cancellationToken: cancellationToken)), cancellationToken);
}

/// <summary>This control plane no longer holds the run: another took it over after its lease ran out.</summary>
public sealed class RunLostException : Exception
{
    public RunLostException(string runId)
        : base($"Run {runId} is no longer held by this control plane.")
    {
    }

    public RunLostException()
    {
    }

    public RunLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
