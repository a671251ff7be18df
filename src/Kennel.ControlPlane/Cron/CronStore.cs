using System.Data.Common;
using Dapper;
using Kennel.ControlPlane.Scheduling;
using Kennel.Store;

namespace Kennel.ControlPlane.Cron;

/// <summary>
/// Cron job and cron run queries. Every one names the workspace in its SQL, so a caller never reads or changes another
/// workspace's job whatever the id. A job's schedule is written in the same transaction as the job.
/// </summary>
public sealed class CronStore(Database database)
{
    internal const string JobColumns =
        "id, workspace_id, name, description, agent, enabled, schedule, payload, delivery, webhook_secret, timeout_ms, token_budget, overlap, " +
        "delete_after_run, consecutive_errors, backoff_until, last_run_at, last_status, last_error, created_at, updated_at";

    internal const string RunColumns =
        "id, workspace_id, job_id, job_name, trigger_type, scheduled_for, status, delivery, error_code, error_message, conversation_id, run_id, " +
        "session_id, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_nano_usd, created_at, started_at, ended_at";

    public enum InsertResult { Inserted, NameTaken, TooMany }

    /// <summary>Inserts a job and its schedule (without a next run while disabled).</summary>
    public Task<InsertResult> InsertAsync(CronJobRow row, ScheduleDefinition schedule, int maxJobs, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var count = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM cron_jobs WHERE workspace_id = @WorkspaceId", row, transaction, cancellationToken: cancellationToken));
            if (count >= maxJobs)
            {
                return InsertResult.TooMany;
            }
            var inserted = await connection.ExecuteAsync(new CommandDefinition(
                $"INSERT INTO cron_jobs ({JobColumns}) VALUES (@Id, @WorkspaceId, @Name, @Description, @Agent, @Enabled, @Schedule, @Payload, @Delivery, " +
                "@WebhookSecret, @TimeoutMs, @TokenBudget, @Overlap, @DeleteAfterRun, 0, NULL, NULL, NULL, NULL, @CreatedAt, @UpdatedAt) " +
                "ON CONFLICT (workspace_id, name) DO NOTHING", row, transaction, cancellationToken: cancellationToken));
            if (inserted == 0)
            {
                return InsertResult.NameTaken;
            }
            await ScheduleStore.SaveAsync(connection, transaction, schedule, row.Enabled != 0, now, cancellationToken);
            return InsertResult.Inserted;
        }, cancellationToken);

    /// <summary>A job by id (<c>cron_…</c>) or by name.</summary>
    public Task<CronJobRow?> GetAsync(string workspaceId, string idOrName, CancellationToken cancellationToken) =>
        database.ReadRowAsync<CronJobRow>(
            $"SELECT {JobColumns} FROM cron_jobs WHERE workspace_id = @workspaceId AND " + (IsId(idOrName) ? "id = @key" : "name = @key"),
            [("workspaceId", workspaceId), ("key", idOrName)], cancellationToken);

    internal static Task<CronJobRow?> GetAsync(DbConnection connection, DbTransaction transaction, string workspaceId, string id,
        CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<CronJobRow?>(new CommandDefinition(
            $"SELECT {JobColumns} FROM cron_jobs WHERE workspace_id = @workspaceId AND id = @id", new { workspaceId, id }, transaction,
            cancellationToken: cancellationToken));

    /// <summary>Jobs by name, a page at a time after the name <paramref name="after"/>.</summary>
    public Task<List<CronJobRow>> ListAsync(string workspaceId, bool? enabled, string? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection => (await connection.QueryAsync<CronJobRow>(new CommandDefinition(
            $"SELECT {JobColumns} FROM cron_jobs WHERE workspace_id = @workspaceId" +
            (enabled is null ? "" : " AND enabled = @enabledValue") + (after is null ? "" : " AND name > @after") +
            " ORDER BY name LIMIT @limit",
            new { workspaceId, enabledValue = enabled == true ? 1 : 0, after, limit }, cancellationToken: cancellationToken))).AsList(), cancellationToken);

    /// <summary>
    /// Deletes a job and its schedule; its runs waiting their turn are recorded as cancelled. Its history stays. False when
    /// the workspace has no such job.
    /// </summary>
    public Task<bool> DeleteAsync(string workspaceId, string id, long now, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => DeleteAsync(connection, transaction, workspaceId, id, now, cancellationToken), cancellationToken);

    internal static async Task<bool> DeleteAsync(DbConnection connection, DbTransaction transaction, string workspaceId, string id, long now,
        CancellationToken cancellationToken)
    {
        var deleted = await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM cron_jobs WHERE workspace_id = @workspaceId AND id = @id", new { workspaceId, id }, transaction, cancellationToken: cancellationToken));
        if (deleted == 0)
        {
            return false;
        }
        await ScheduleStore.DeleteAsync(connection, transaction, id, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE cron_runs SET status = 'cancelled', error_code = 'job_removed', error_message = 'The job was removed before this run started.', " +
            "ended_at = @now WHERE workspace_id = @workspaceId AND job_id = @id AND status = 'queued'",
            new { workspaceId, id, now }, transaction, cancellationToken: cancellationToken));
        return true;
    }

    /// <summary>Enables or disables a job: a disabled one keeps no next run; an enabled one is due at its next time from now.</summary>
    public Task<bool> SetEnabledAsync(CronJobRow job, ScheduleDefinition schedule, bool enabled, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var changed = await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE cron_jobs SET enabled = @value, updated_at = @now WHERE workspace_id = @WorkspaceId AND id = @Id",
                new { value = enabled ? 1 : 0, now = now.ToUnixTimeMilliseconds(), job.WorkspaceId, job.Id }, transaction, cancellationToken: cancellationToken));
            if (changed == 1)
            {
                await ScheduleStore.SaveAsync(connection, transaction, schedule, enabled, now, cancellationToken);
            }
            return changed == 1;
        }, cancellationToken);

    /// <summary>The run going now of each job that has one.</summary>
    public Task<Dictionary<string, string>> RunningAsync(string workspaceId, IReadOnlyList<string> jobIds, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection => jobIds.Count == 0
            ? []
            : (await connection.QueryAsync<(string JobId, string Id)>(new CommandDefinition(
                $"SELECT job_id, id FROM cron_runs WHERE workspace_id = @workspaceId AND job_id {database.InList("jobIds")} AND status = 'running'",
                new { workspaceId, jobIds = jobIds.ToArray() }, cancellationToken: cancellationToken)))
                .GroupBy(r => r.JobId).ToDictionary(g => g.Key, g => g.Min(r => r.Id)!, StringComparer.Ordinal), cancellationToken);

    public Task<Dictionary<string, DateTimeOffset>> NextRunsAsync(IReadOnlyList<string> jobIds, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => ScheduleStore.NextRunsAsync(connection, database, jobIds, cancellationToken), cancellationToken);

    public Task<CronRunRow?> GetRunAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        database.ReadRowAsync<CronRunRow>($"SELECT {RunColumns} FROM cron_runs WHERE workspace_id = @workspaceId AND id = @id",
            [("workspaceId", workspaceId), ("id", id)], cancellationToken);

    /// <summary>Runs newest first, of one job or all, in some statuses or all, a page at a time before <paramref name="before"/>.</summary>
    public Task<List<CronRunRow>> ListRunsAsync(string workspaceId, string? jobId, IReadOnlyList<string> statuses, string? before, int limit,
        CancellationToken cancellationToken) =>
        database.ReadAsync(async connection => (await connection.QueryAsync<CronRunRow>(new CommandDefinition(
            $"SELECT {RunColumns} FROM cron_runs WHERE workspace_id = @workspaceId" +
            (jobId is null ? "" : " AND job_id = @jobId") +
            (statuses.Count == 0 ? "" : $" AND status {database.InList("statuses")}") +
            (before is null ? "" : " AND id < @before") + " ORDER BY id DESC LIMIT @limit",
            new { workspaceId, jobId, statuses = statuses.ToArray(), before, limit }, cancellationToken: cancellationToken))).AsList(), cancellationToken);

    /// <summary>The id of a job that has runs in the history, by its id or its name when it ran (the newest such job).</summary>
    public Task<string?> JobIdInHistoryAsync(string workspaceId, string idOrName, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT job_id FROM cron_runs WHERE workspace_id = @workspaceId AND " + (IsId(idOrName) ? "job_id = @idOrName" : "job_name = @idOrName") +
            " ORDER BY id DESC LIMIT 1", new { workspaceId, idOrName }, cancellationToken: cancellationToken)), cancellationToken);

    internal static Task InsertRunAsync(DbConnection connection, DbTransaction transaction, CronRunRow row, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO cron_runs ({RunColumns}) VALUES (@Id, @WorkspaceId, @JobId, @JobName, @TriggerType, @ScheduledFor, @Status, @Delivery, " +
            "@ErrorCode, @ErrorMessage, @ConversationId, @RunId, @SessionId, @InputTokens, @OutputTokens, @CacheReadTokens, @CacheWriteTokens, " +
            "@CostNanoUsd, @CreatedAt, @StartedAt, @EndedAt)", row, transaction, cancellationToken: cancellationToken));

    /// <summary>The job's runs not yet ended, oldest first (at most a few: one running and the queue behind it).</summary>
    internal static async Task<List<CronRunRow>> LiveRunsAsync(DbConnection connection, DbTransaction transaction, string jobId,
        CancellationToken cancellationToken) =>
        (await connection.QueryAsync<CronRunRow>(new CommandDefinition(
            $"SELECT {RunColumns} FROM cron_runs WHERE job_id = @jobId AND status IN {CronValues.Live} ORDER BY id",
            new { jobId }, transaction, cancellationToken: cancellationToken))).AsList();

    /// <summary>
    /// Records how a run of <paramref name="job"/> ended on the job: its last run, status and error, and its failure
    /// streak — a failure backs the job off (<see cref="CronValues.Backoff"/>), a success clears it, a cancel leaves it.
    /// </summary>
    internal static Task RecordOutcomeAsync(DbConnection connection, DbTransaction transaction, CronJobRow job, CronRunRow run, long now,
        CancellationToken cancellationToken)
    {
        var failed = CronValues.IsFailure(run.Status);
        var errors = failed ? job.ConsecutiveErrors + 1 : run.Status == CronValues.Succeeded ? 0 : job.ConsecutiveErrors;
        long? backoff = failed ? now + (long)CronValues.BackoffAfter(errors).TotalMilliseconds : run.Status == CronValues.Succeeded ? null : job.BackoffUntil;
        return connection.ExecuteAsync(new CommandDefinition(
            "UPDATE cron_jobs SET last_run_at = @lastRunAt, last_status = @Status, last_error = @ErrorMessage, consecutive_errors = @errors, " +
            "backoff_until = @backoff WHERE workspace_id = @WorkspaceId AND id = @JobId",
            new { lastRunAt = run.StartedAt ?? run.CreatedAt, run.Status, run.ErrorMessage, errors, backoff, run.WorkspaceId, run.JobId },
            transaction, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Deletes up to <paramref name="limit"/> runs that ended before <paramref name="before"/>, with the conversations their
    /// isolated agent turns made (no key, nothing live, no activity since), transcripts and runs included. Returns how
    /// many runs it deleted.
    /// </summary>
    internal Task<int> PruneAsync(long before, int limit, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var old = (await connection.QueryAsync<(string Id, string? ConversationId)>(new CommandDefinition(
                "SELECT id, conversation_id FROM cron_runs WHERE ended_at IS NOT NULL AND ended_at < @before ORDER BY ended_at LIMIT @limit",
                new { before, limit }, transaction, cancellationToken: cancellationToken))).AsList();
            if (old.Count == 0)
            {
                return 0;
            }
            var candidates = old.Where(r => r.ConversationId is not null).Select(r => r.ConversationId!).Distinct().ToArray();
            var conversations = candidates.Length == 0 ? [] : (await connection.QueryAsync<string>(new CommandDefinition(
                $"SELECT c.id FROM conversations c WHERE c.id {database.InList("candidates")} AND c.conversation_key IS NULL " +
                "AND c.last_activity_at < @before AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.conversation_id = c.id AND r.status IN ('queued', 'running'))",
                new { candidates, before }, transaction, cancellationToken: cancellationToken))).ToArray();
            if (conversations.Length > 0)
            {
                var ids = new { conversations };
                await connection.ExecuteAsync(new CommandDefinition($"DELETE FROM transcript_entries WHERE conversation_id {database.InList("conversations")}",
                    ids, transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition($"DELETE FROM runs WHERE conversation_id {database.InList("conversations")}",
                    ids, transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition($"DELETE FROM conversations WHERE id {database.InList("conversations")}",
                    ids, transaction, cancellationToken: cancellationToken));
            }
            var runIds = old.Select(r => r.Id).ToArray();
            return await connection.ExecuteAsync(new CommandDefinition($"DELETE FROM cron_runs WHERE id {database.InList("runIds")}",
                new { runIds }, transaction, cancellationToken: cancellationToken));
        }, cancellationToken);

    private static bool IsId(string idOrName) => idOrName.StartsWith("cron_", StringComparison.Ordinal);
}
