using System.Data.Common;
using System.Text.Json;
using Dapper;
using Kennel.Contracts.Conversations;
using Kennel.Contracts.Cron;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Conversations;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Quotas;
using Kennel.ControlPlane.Runs;
using Kennel.ControlPlane.Sessions;
using Kennel.ControlPlane.Snapshots;
using Kennel.Store;

namespace Kennel.ControlPlane.Cron;

/// <summary>
/// Fires a job, inside the caller's transaction (the scheduler's, a person's <c>cron_run</c>, or the tracker's when a
/// queued run's turn comes): records the cron run and starts what it does — an agent turn queued for the run executor,
/// or a sandbox session queued for a worker — so the record and the work commit together or not at all.
/// </summary>
public sealed class CronLauncher(QuotaStore quotas, SnapshotCatalog snapshots, TimeProvider time)
{
    /// <summary>How many runs may wait behind a running one when the job's overlap is <c>queue</c>; one more is skipped.</summary>
    public const int MaxQueued = 10;

    public const string Overlapping = "overlapping";
    public const string BackingOff = "backing_off";
    public const string QueueFull = "queue_full";
    public const string Unstartable = "unstartable";

    /// <summary>
    /// Records a firing of <paramref name="job"/> and starts it, queues it behind the job's running run, or records it as
    /// skipped (overlap, back-off, a full queue). A manual firing ignores the back-off; while a run is going it is refused
    /// (<see cref="ApiProblem"/>) unless the job queues.
    /// </summary>
    public async Task<CronRunRow> FireAsync(DbConnection connection, DbTransaction transaction, CronJobRow job, string trigger,
        DateTimeOffset? scheduledFor, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var row = new CronRunRow
        {
            Id = SortableId.New("crun", time),
            WorkspaceId = job.WorkspaceId,
            JobId = job.Id,
            JobName = job.Name,
            TriggerType = trigger,
            ScheduledFor = scheduledFor?.ToUnixTimeMilliseconds(),
            Delivery = job.ParsedDelivery.Mode,
            CreatedAt = now,
        };
        var live = await CronStore.LiveRunsAsync(connection, transaction, job.Id, cancellationToken);
        var manual = trigger == CronValues.TriggerManual;
        if (!manual && job.BackoffUntil is { } until && until > now)
        {
            Skip(row, BackingOff, $"The job is backing off after {job.ConsecutiveErrors} consecutive failures, until " +
                $"{DateTimeOffset.FromUnixTimeMilliseconds(until):O}; the last error: {job.LastError}");
        }
        else if (live.Count > 0 && job.Overlap == CronValues.Skip)
        {
            if (manual)
            {
                throw ApiProblem.Conflict("run_in_progress",
                    $"Job '{job.Name}' has a run going ({live[0].Id}), and its overlap is skip. Wait for it, or give the job overlap queue.");
            }
            Skip(row, Overlapping, $"The run {live[0].Id} was still going, and the job's overlap is skip.");
        }
        else if (live.Count > MaxQueued)
        {
            if (manual)
            {
                throw ApiProblem.Conflict(QueueFull, $"Job '{job.Name}' already has {MaxQueued} runs waiting behind the one going.");
            }
            Skip(row, QueueFull, $"{MaxQueued} runs were already waiting behind the one going.");
        }
        else if (live.Count > 0)
        {
            row.Status = CronValues.Queued;
        }
        else
        {
            await StartAsync(connection, transaction, job, row, cancellationToken);
        }
        await CronStore.InsertRunAsync(connection, transaction, row, cancellationToken);
        return row;
    }

    /// <summary>Starts the oldest run waiting behind one that just ended, if any; null when none waits.</summary>
    internal async Task<CronRunRow?> StartNextAsync(DbConnection connection, DbTransaction transaction, CronJobRow job, CancellationToken cancellationToken)
    {
        var live = await CronStore.LiveRunsAsync(connection, transaction, job.Id, cancellationToken);
        if (live.Count == 0 || live.Any(r => r.Status == CronValues.Running))
        {
            return null;
        }
        var next = live[0];
        await StartAsync(connection, transaction, job, next, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE cron_runs SET status = @Status, error_code = @ErrorCode, error_message = @ErrorMessage, conversation_id = @ConversationId, " +
            "run_id = @RunId, session_id = @SessionId, started_at = @StartedAt, ended_at = @EndedAt WHERE id = @Id AND status = 'queued'",
            next, transaction, cancellationToken: cancellationToken));
        return next;
    }

    private async Task StartAsync(DbConnection connection, DbTransaction transaction, CronJobRow job, CronRunRow row, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        row.StartedAt = now;
        row.Status = CronValues.Running;
        var payload = job.ParsedPayload;
        if (payload.Kind == CronValues.AgentTurn)
        {
            var conversation = await ConversationAsync(connection, transaction, job, payload.Conversation, now, cancellationToken);
            var run = new RunRow
            {
                Id = SortableId.New("run", time),
                WorkspaceId = job.WorkspaceId,
                ConversationId = conversation,
                Agent = job.Agent!,
                Status = RunStatus.Queued.ToWire(),
                Message = payload.Message!,
                CreatedAt = now,
                TimeoutMs = job.TimeoutMs,
                TokenBudget = job.TokenBudget,
            };
            await RunStore.InsertAsync(connection, transaction, run, cancellationToken);
            row.ConversationId = conversation;
            row.RunId = run.Id;
            return;
        }
        if (await SessionAsync(connection, transaction, job, payload, row, cancellationToken) is { } refused)
        {
            row.Status = CronValues.Failed;
            row.ErrorCode = Unstartable;
            row.ErrorMessage = refused;
            row.EndedAt = now;
            await CronStore.RecordOutcomeAsync(connection, transaction, job, row, now, cancellationToken);
        }
    }

    /// <summary>A fresh conversation for an isolated run (nothing inherited: the agent's instructions and the message), or the named one, made if need be.</summary>
    private async Task<string> ConversationAsync(DbConnection connection, DbTransaction transaction, CronJobRow job, string? key, long now,
        CancellationToken cancellationToken)
    {
        if (key is not null && await ConversationStore.FindByKeyAsync(connection, transaction, job.WorkspaceId, job.Agent!, key, cancellationToken) is { } existing)
        {
            return existing.Id;
        }
        var row = new ConversationRow
        {
            Id = SortableId.New("cnv", time),
            WorkspaceId = job.WorkspaceId,
            ConversationKey = key,
            Agent = job.Agent!,
            Label = key is null ? $"cron:{job.Name}" : null,
            CreatedAt = now,
            LastActivityAt = now,
        };
        await ConversationStore.InsertAsync(connection, transaction, row, cancellationToken);
        return row.Id;
    }

    /// <summary>Queues the workload's session under the workspace's quota; the reason when it cannot start.</summary>
    private async Task<string?> SessionAsync(DbConnection connection, DbTransaction transaction, CronJobRow job, CronPayload payload, CronRunRow run,
        CancellationToken cancellationToken)
    {
        ValidSessionRequest valid;
        try
        {
            valid = CreateSessionValidator.Validate(CronValidator.SessionRequest(payload, job.TimeoutMs), snapshots);
        }
        catch (ApiProblem problem)
        {
            return problem.Detail ?? problem.Title;
        }
        var (limits, queued) = await quotas.LockQueueAsync(connection, transaction, job.WorkspaceId, cancellationToken);
        if (QuotaRefusals.Why(limits, queued, valid.Vcpus) is { } refused)
        {
            return refused;
        }
        var env = new Dictionary<string, string>(valid.Spec.Env, StringComparer.Ordinal)
        {
            ["KENNEL_CRON_JOB"] = job.Name,
            ["KENNEL_CRON_RUN"] = run.Id,
        };
        var session = new SessionRow
        {
            Id = SortableId.New("ses", time),
            WorkspaceId = job.WorkspaceId,
            Status = SessionStatus.Pending.ToWire(),
            Snapshot = valid.Snapshot,
            Spec = JsonSerializer.Serialize(valid.Spec with { Env = env }, StoreJson.Default.StoredSessionSpec),
            Vcpus = valid.Vcpus,
            MemoryMb = valid.MemoryMb,
            TimeoutMs = valid.TimeoutMs,
            CreatedAt = run.StartedAt ?? run.CreatedAt,
            TriggerType = "cron",
            ScheduledFor = run.ScheduledFor,
            CatchUp = run.TriggerType == CronValues.TriggerCatchUp ? 1 : 0,
        };
        await SessionStore.InsertAsync(connection, transaction, [session], cancellationToken);
        run.SessionId = session.Id;
        return null;
    }

    private static void Skip(CronRunRow row, string code, string message)
    {
        row.Status = CronValues.Skipped;
        row.ErrorCode = code;
        row.ErrorMessage = message;
        row.EndedAt = row.CreatedAt;
    }
}
