using System.Text;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Cron;
using Kennel.ControlPlane.Agents;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Scheduling;
using Kennel.ControlPlane.Secrets;
using Kennel.ControlPlane.Sessions;
using Kennel.ControlPlane.Snapshots;
using Kennel.Store;

namespace Kennel.ControlPlane.Cron;

/// <summary>What people and their agents' tools can do with cron jobs. REST, CLI and MCP are thin faces over these calls.</summary>
public sealed class CronService(
    Database database, CronStore store, CronLauncher launcher, CronDeliveries deliveries, AgentService agents, SecretService secrets,
    SnapshotCatalog snapshots, KeyEncryption encryption, Scheduler scheduler, Config.ConfigService config, ChangeSignal signal, TimeProvider time)
{
    public const string JobExists = "cron_job_exists";
    public const string TooManyJobs = "too_many_cron_jobs";
    public const int DefaultListLimit = 50;
    public const int MaxListLimit = 200;
    public const int NextRunsShown = 3;

    public async Task<CreatedCronJob> AddAsync(Caller caller, CreateCronJobRequest request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var valid = CronValidator.Validate(request, snapshots, now);
        if (valid.Agent is { } agent && (await agents.DirectoryAsync(caller.WorkspaceId, cancellationToken)).FindAgent(agent) is null)
        {
            throw ApiProblem.Invalid("agent", $"The workspace has no agent '{agent}'; agents_list shows those it has.");
        }
        if (valid.Workload is { } workload)
        {
            await snapshots.RequireAsync(caller.WorkspaceId, workload.Snapshot, "payload.snapshot", cancellationToken);
            await secrets.RequireAsync(caller.WorkspaceId, workload.Spec.Secrets ?? [], "payload.secrets", cancellationToken);
        }
        if (valid.Delivery.Channel is { } channel
            && Channels.ChannelConfig.Find(await config.DocumentAsync(caller.WorkspaceId, cancellationToken), channel) is null)
        {
            throw ApiProblem.Invalid("delivery.channel", $"The workspace has no channel '{channel}'; channels_status lists those it has.");
        }
        var id = SortableId.New("cron", time);
        string? secret = null;
        if (valid.Delivery.Mode == CronValues.DeliveryWebhook)
        {
            secret = Delivery.WebhookSecret.New();
        }
        var row = new CronJobRow
        {
            Id = id,
            WorkspaceId = caller.WorkspaceId,
            Name = valid.Name,
            Description = valid.Description,
            Agent = valid.Agent,
            Enabled = valid.Enabled ? 1 : 0,
            Schedule = JsonSerializer.Serialize(valid.Schedule, KennelJson.Default.CronSchedule),
            Payload = JsonSerializer.Serialize(valid.Payload, KennelJson.Default.CronPayload),
            Delivery = JsonSerializer.Serialize(valid.Delivery, KennelJson.Default.CronDelivery),
            WebhookSecret = secret is null ? null : encryption.Encrypt(SecretContext(caller.WorkspaceId, id), Encoding.UTF8.GetBytes(secret)),
            TimeoutMs = valid.TimeoutMs,
            TokenBudget = valid.TokenBudget,
            Overlap = valid.Overlap,
            DeleteAfterRun = valid.DeleteAfterRun ? 1 : 0,
            CreatedAt = now.ToUnixTimeMilliseconds(),
            UpdatedAt = now.ToUnixTimeMilliseconds(),
        };
        var schedule = CronJobSchedule.For(row, valid.ScheduleText);
        switch (await store.InsertAsync(row, schedule, CronValues.MaxJobsPerWorkspace, now, cancellationToken))
        {
            case CronStore.InsertResult.NameTaken:
                throw ApiProblem.Conflict(JobExists, $"This workspace already has a cron job named '{valid.Name}'.");
            case CronStore.InsertResult.TooMany:
                throw ApiProblem.Conflict(TooManyJobs, $"This workspace has the most cron jobs it may have ({CronValues.MaxJobsPerWorkspace}); remove some first.");
        }
        scheduler.Wake();
        return new CreatedCronJob
        {
            Job = await GetAsync(caller, id, cancellationToken),
            NextRuns = Schedules.NextRuns(schedule, now, NextRunsShown),
            WebhookSecret = secret,
        };
    }

    public async Task<CronJob> GetAsync(Caller caller, string idOrName, CancellationToken cancellationToken)
    {
        var row = await RowAsync(caller, idOrName, cancellationToken);
        return (await ContractsAsync(caller, [row], cancellationToken))[0];
    }

    public async Task<CronJobPage> ListAsync(Caller caller, string? enabled, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        bool? only = enabled switch
        {
            null or "all" => null,
            "enabled" or "true" => true,
            "disabled" or "false" => false,
            _ => throw ApiProblem.Invalid("enabled", "enabled must be all, enabled or disabled."),
        };
        var take = Conversations.ConversationValidator.Limit(limit, DefaultListLimit, MaxListLimit);
        if (cursor is { Length: > CronValues.MaxNameLength })
        {
            throw ApiProblem.Invalid("cursor", "cursor must be the nextCursor of a previous page.");
        }
        var rows = await store.ListAsync(caller.WorkspaceId, only, cursor, take + 1, cancellationToken);
        var page = rows.Take(take).ToList();
        return new CronJobPage(await ContractsAsync(caller, page, cancellationToken), rows.Count > take ? page[^1].Name : null);
    }

    public async Task<RemovedCronJob> RemoveAsync(Caller caller, string idOrName, CancellationToken cancellationToken)
    {
        var row = await RowAsync(caller, idOrName, cancellationToken);
        if (!await store.DeleteAsync(caller.WorkspaceId, row.Id, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken))
        {
            throw ApiProblem.NotFound("cron job", idOrName);
        }
        return new RemovedCronJob(row.Id, true);
    }

    /// <summary>Enables or disables a job. Enabled again, it next runs at its first time from now; what it missed meanwhile does not run.</summary>
    public async Task<CronJob> UpdateAsync(Caller caller, string idOrName, UpdateCronJobRequest request, CancellationToken cancellationToken)
    {
        var row = await RowAsync(caller, idOrName, cancellationToken);
        if (request.Enabled is { } enabled)
        {
            var now = time.GetUtcNow();
            var schedule = CronJobSchedule.For(row, Text(row));
            if (enabled && Schedules.NextRun(schedule, now) is null)
            {
                throw ApiProblem.Invalid("enabled", $"Job '{row.Name}' runs once, at a time that has passed; add a new job instead.");
            }
            await store.SetEnabledAsync(row, schedule, enabled, now, cancellationToken);
            scheduler.Wake();
        }
        return await GetAsync(caller, row.Id, cancellationToken);
    }

    /// <summary>Runs the job now, due or not, enabled or not: refused while a run is going, unless the job queues.</summary>
    public async Task<CronRun> RunAsync(Caller caller, string idOrName, CancellationToken cancellationToken)
    {
        var row = await RowAsync(caller, idOrName, cancellationToken);
        var fired = await database.WriteAsync(async (connection, transaction) =>
        {
            var job = await CronStore.GetAsync(connection, transaction, caller.WorkspaceId, row.Id, cancellationToken)
                ?? throw ApiProblem.NotFound("cron job", idOrName);
            return await launcher.FireAsync(connection, transaction, job, CronValues.TriggerManual, null, cancellationToken);
        }, cancellationToken);
        signal.PulseRunQueue();
        signal.PulseQueue();
        return (await RunContractsAsync(caller, [fired], cancellationToken))[0];
    }

    public async Task<CronRunPage> RunsAsync(Caller caller, string? job, string? status, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var jobId = job is null ? null : await JobIdAsync(caller, job, cancellationToken);
        var statuses = new List<string>();
        foreach (var part in (status ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            statuses.Add(CronValues.RunStatuses.Contains(part)
                ? part
                : throw ApiProblem.Invalid("status", $"Unknown status '{part}'. Use {string.Join(", ", CronValues.RunStatuses)}, comma-separated."));
        }
        var take = Conversations.ConversationValidator.Limit(limit, DefaultListLimit, MaxListLimit);
        if (cursor is not null && !SortableId.IsValid(cursor, "crun"))
        {
            throw ApiProblem.Invalid("cursor", "cursor must be the nextCursor of a previous page.");
        }
        var rows = await store.ListRunsAsync(caller.WorkspaceId, jobId, statuses, cursor, take + 1, cancellationToken);
        var page = rows.Take(take).ToList();
        return new CronRunPage(await RunContractsAsync(caller, page, cancellationToken), rows.Count > take ? page[^1].Id : null);
    }

    /// <summary>What the job's encrypted secret is bound to, so a ciphertext copied into another row does not decrypt.</summary>
    internal static string SecretContext(string workspaceId, string jobId) => $"cron_jobs:{workspaceId}:{jobId}:webhook_secret";

    private async Task<CronJobRow> RowAsync(Caller caller, string idOrName, CancellationToken cancellationToken) =>
        (IsJobKey(idOrName) ? await store.GetAsync(caller.WorkspaceId, idOrName, cancellationToken) : null)
        ?? throw ApiProblem.NotFound("cron job", idOrName);

    /// <summary>Whether the text could name a job at all; anything else asks the store nothing.</summary>
    private static bool IsJobKey(string idOrName) => idOrName.Length is > 0 and <= 64;

    /// <summary>A job's id by its id or name, among the live jobs and then the history, so a removed job's runs are still found.</summary>
    private async Task<string> JobIdAsync(Caller caller, string idOrName, CancellationToken cancellationToken) =>
        (IsJobKey(idOrName)
            ? (await store.GetAsync(caller.WorkspaceId, idOrName, cancellationToken))?.Id ?? await store.JobIdInHistoryAsync(caller.WorkspaceId, idOrName, cancellationToken)
            : null)
        ?? throw ApiProblem.NotFound("cron job", idOrName);

    private async Task<IReadOnlyList<CronJob>> ContractsAsync(Caller caller, IReadOnlyList<CronJobRow> rows, CancellationToken cancellationToken)
    {
        var ids = rows.Select(r => r.Id).ToList();
        var running = await store.RunningAsync(caller.WorkspaceId, ids, cancellationToken);
        var next = await store.NextRunsAsync(ids, cancellationToken);
        return [.. rows.Select(r => r.ToContract(NextRun(r, next), running.GetValueOrDefault(r.Id)))];
    }

    /// <summary>A job backing off skips the runs that fall due meanwhile: its next run is the first after the back-off.</summary>
    private static DateTimeOffset? NextRun(CronJobRow row, Dictionary<string, DateTimeOffset> next)
    {
        if (!next.TryGetValue(row.Id, out var at))
        {
            return null;
        }
        if (row.BackoffUntil is { } until && until > at.ToUnixTimeMilliseconds())
        {
            var schedule = CronJobSchedule.For(row, Text(row));
            var after = DateTimeOffset.FromUnixTimeMilliseconds(until);
            return Schedules.NextRun(schedule, after.AddMilliseconds(-1));
        }
        return at;
    }

    private async Task<IReadOnlyList<CronRun>> RunContractsAsync(Caller caller, IReadOnlyList<CronRunRow> rows, CancellationToken cancellationToken)
    {
        var states = await deliveries.StatesAsync(caller.WorkspaceId, rows, cancellationToken);
        return [.. rows.Select(r => r.ToContract(states.GetValueOrDefault(r.Id)))];
    }

    /// <summary>A stored job's schedule in the scheduler's terms again.</summary>
    internal static ScheduleDefinitionText Text(CronJobRow row)
    {
        var schedule = row.ParsedSchedule;
        return schedule.Kind switch
        {
            CronValues.KindAt => new(OneTime.Format(DateTimeOffset.Parse(schedule.At!, System.Globalization.CultureInfo.InvariantCulture)), Schedules.DefaultTimezone),
            CronValues.KindEvery => new(FixedInterval.Format(TimeSpan.FromMilliseconds(schedule.EveryMs!.Value), schedule.Anchor!.Value), Schedules.DefaultTimezone),
            _ => new(schedule.Expr!, schedule.Tz ?? Schedules.DefaultTimezone),
        };
    }
}
