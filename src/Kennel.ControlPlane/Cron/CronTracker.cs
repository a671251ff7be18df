using System.Data.Common;
using Dapper;
using Kennel.ControlPlane.Runs;
using Kennel.ControlPlane.Scheduling;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Cron;

/// <summary>
/// Records the end of each cron run, in every control plane: when the agent run or sandbox session a cron run started
/// has ended, one transaction records its status, usage and cost, moves the job's state on (its failure streak and
/// back-off; an <c>at</c> job is disabled or removed), queues its delivery, and starts the run waiting behind it. A
/// conditional update makes each end recorded once, whichever replica sees it first, and a restart loses nothing: the
/// work is read from the store each time.
/// </summary>
public sealed partial class CronTracker(Database database, CronStore store, CronLauncher launcher, CronDeliveries deliveries, ChangeSignal signal,
    TimeProvider time, ILogger<CronTracker> logger) : BackgroundService
{
    private DateTimeOffset nextPrune;

    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private const int Batch = 200;

    internal sealed class Ended
    {
        public string Id { get; set; } = "";
        public string WorkspaceId { get; set; } = "";
        public string JobId { get; set; } = "";
        public string? ConversationId { get; set; }
        public string? RunId { get; set; }
        public string Status { get; set; } = "";
        public string? ErrorCode { get; set; }
        public string? ErrorMessage { get; set; }
        public string? Answer { get; set; }
        public int? ExitCode { get; set; }
        public long? InputTokens { get; set; }
        public long? OutputTokens { get; set; }
        public long? CacheReadTokens { get; set; }
        public long? CacheWriteTokens { get; set; }
    }

    private const string EndedSql =
        "SELECT c.id, c.workspace_id, c.job_id, c.conversation_id, c.run_id, r.status, r.error_code, r.error_message, r.answer, NULL AS exit_code, " +
        "r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens " +
        "FROM cron_runs c JOIN runs r ON r.id = c.run_id WHERE c.status = 'running' AND r.status IN ('succeeded', 'failed', 'cancelled', 'timed_out') " +
        "UNION ALL " +
        "SELECT c.id, c.workspace_id, c.job_id, c.conversation_id, c.run_id, s.status, s.error_code, s.error_message, NULL, s.exit_code, " +
        "NULL, NULL, NULL, NULL " +
        "FROM cron_runs c JOIN sessions s ON s.id = c.session_id WHERE c.status = 'running' AND s.status IN ('succeeded', 'failed', 'cancelled', 'timed_out') " +
        "LIMIT @limit";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var changed = signal.RunQueueChanged();
            try
            {
                while (await SweepAsync(stoppingToken) >= Batch)
                {
                }
                await PruneAsync(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogSweepFailed(logger, exception);
            }
            await ChangeSignal.WaitAsync(changed, Poll, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Once an hour, deletes the history older than <see cref="CronValues.RunHistory"/>, a batch at a time.</summary>
    private async Task PruneAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now < nextPrune)
        {
            return;
        }
        nextPrune = now + TimeSpan.FromHours(1);
        var before = (now - CronValues.RunHistory).ToUnixTimeMilliseconds();
        while (await store.PruneAsync(before, Batch, cancellationToken) >= Batch)
        {
        }
    }

    /// <summary>Records the runs that have ended since the last sweep. Returns how many it found.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var ended = await database.ReadAsync(async connection => (await connection.QueryAsync<Ended>(new CommandDefinition(
            EndedSql, new { limit = Batch }, cancellationToken: cancellationToken))).AsList(), cancellationToken);
        var started = false;
        foreach (var run in ended)
        {
            try
            {
                started |= await database.WriteAsync((connection, transaction) => FinishAsync(connection, transaction, run, cancellationToken), cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogFinishFailed(logger, exception, run.Id);
            }
        }
        if (started)
        {
            signal.PulseRunQueue();
            signal.PulseQueue();
        }
        if (ended.Count > 0)
        {
            deliveries.Wake();
        }
        return ended.Count;
    }

    /// <summary>Records one end; true when it started a run that was waiting.</summary>
    private async Task<bool> FinishAsync(DbConnection connection, DbTransaction transaction, Ended ended, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var status = Status(ended);
        long? cost = ended.RunId is null ? null : await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COALESCE(SUM(cost_nano_usd), 0) FROM model_calls WHERE workspace_id = @WorkspaceId AND conversation_id = @ConversationId AND run_id = @RunId",
            ended, transaction, cancellationToken: cancellationToken));
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE cron_runs SET status = @status, error_code = @ErrorCode, error_message = @ErrorMessage, input_tokens = @InputTokens, " +
            "output_tokens = @OutputTokens, cache_read_tokens = @CacheReadTokens, cache_write_tokens = @CacheWriteTokens, cost_nano_usd = @cost, " +
            "ended_at = @now WHERE id = @Id AND status = 'running'",
            new { status, ended.ErrorCode, ended.ErrorMessage, ended.InputTokens, ended.OutputTokens, ended.CacheReadTokens, ended.CacheWriteTokens, cost, now, ended.Id },
            transaction, cancellationToken: cancellationToken));
        if (changed == 0)
        {
            return false; // another control plane recorded it first
        }
        var run = (await connection.QuerySingleAsync<CronRunRow>(new CommandDefinition(
            $"SELECT {CronStore.RunColumns} FROM cron_runs WHERE id = @Id", ended, transaction, cancellationToken: cancellationToken)));
        var job = await CronStore.GetAsync(connection, transaction, ended.WorkspaceId, ended.JobId, cancellationToken);
        if (job is null)
        {
            return false; // removed while the run went on: its history stays, there is nothing to move on
        }
        await CronStore.RecordOutcomeAsync(connection, transaction, job, run, now, cancellationToken);
        await deliveries.EnqueueAsync(connection, transaction, job, run, ended.Answer, ended.ExitCode, cancellationToken);
        if (job.ParsedSchedule.Kind == CronValues.KindAt && run.TriggerType != CronValues.TriggerManual)
        {
            if (job.DeleteAfterRun != 0)
            {
                await CronStore.DeleteAsync(connection, transaction, job.WorkspaceId, job.Id, now, cancellationToken);
                return false;
            }
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE cron_jobs SET enabled = 0, updated_at = @now WHERE id = @Id", new { now, job.Id }, transaction, cancellationToken: cancellationToken));
            await ScheduleStore.DeleteAsync(connection, transaction, job.Id, cancellationToken);
        }
        return await launcher.StartNextAsync(connection, transaction, job, cancellationToken) is not null;
    }

    /// <summary>A cron run's status from its agent run's or session's: a run stopped by its token budget is <c>budget_exceeded</c>.</summary>
    private static string Status(Ended ended) => ended.Status switch
    {
        "succeeded" => CronValues.Succeeded,
        "timed_out" => CronValues.TimedOut,
        "cancelled" => CronValues.Cancelled,
        _ when ended.ErrorCode == CronValues.TokenBudgetExceeded => CronValues.BudgetExceeded,
        _ => CronValues.Failed,
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording the end of cron runs failed; retrying")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording the end of cron run {CronRunId} failed; retrying")]
    private static partial void LogFinishFailed(ILogger logger, Exception exception, string cronRunId);
}
