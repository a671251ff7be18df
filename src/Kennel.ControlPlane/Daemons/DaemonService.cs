using Kennel.Sandbox.Network;
using System.Text.Json;
using Kennel.Contracts.Daemons;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Scheduling;
using Kennel.ControlPlane.Secrets;
using Kennel.ControlPlane.Snapshots;
using Kennel.Store;

namespace Kennel.ControlPlane.Daemons;

/// <summary>What people and their tools can do with daemons. REST, CLI and MCP are thin faces over these calls.</summary>
public sealed class DaemonService(
    DaemonStore store, DaemonRuns runs, SnapshotCatalog snapshots, SecretService secrets, Scheduler scheduler, Sessions.NetworkAccess network, TimeProvider time)
{
    public async Task<Daemon> CreateAsync(Caller caller, CreateDaemonRequest request, CancellationToken cancellationToken)
    {
        var valid = DaemonValidator.Validate(request, snapshots);
        await snapshots.RequireAsync(caller.WorkspaceId, valid.Definition.Snapshot, "snapshot", cancellationToken);
        network.Check(caller, valid.Definition.Network?.Mode ?? EgressPolicy.None);
        await secrets.RequireAsync(caller.WorkspaceId, valid.Definition.Workload.Secrets, WorkloadSecrets, cancellationToken);
        var now = time.GetUtcNow();
        var row = ToRow(valid, SortableId.New("dmn", time), caller.WorkspaceId, now, now);
        if (!await store.InsertAsync(row, DaemonSchedule.For(row), now, cancellationToken))
        {
            throw ApiProblem.Conflict(DaemonErrors.DaemonExists, $"This workspace already has a daemon named '{valid.Name}'.");
        }
        scheduler.Wake();
        return await GetAsync(caller, valid.Name, cancellationToken);
    }

    public async Task<DaemonList> ListAsync(Caller caller, CancellationToken cancellationToken)
    {
        var rows = await store.ListAsync(caller.WorkspaceId, cancellationToken);
        var next = await store.NextRunsAsync([.. rows.Where(r => r.TriggerType == DaemonValues.Schedule).Select(r => r.Id)], cancellationToken);
        return new DaemonList([.. rows.Select(r => ToContract(r, next.TryGetValue(r.Id, out var at) ? at : null))]);
    }

    /// <summary>One daemon with its newest sessions and the totals of all it ran.</summary>
    public async Task<Daemon> GetAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        var row = await FindAsync(caller, name, cancellationToken);
        // History first: a run and its schedule's next time commit together, so a next time read after the history
        // is never older than the newest run shown.
        var (recent, totals) = await store.HistoryAsync(caller.WorkspaceId, row.Id, cancellationToken);
        var next = await store.NextRunsAsync([row.Id], cancellationToken);
        return ToContract(row, next.TryGetValue(row.Id, out var at) ? at : null) with { RecentSessions = recent, Totals = totals };
    }

    /// <summary>Changes the fields given; the rest stay. A new trigger replaces the old whole, keeping the old secret if none is given.</summary>
    public async Task<Daemon> UpdateAsync(Caller caller, string name, UpdateDaemonRequest request, CancellationToken cancellationToken)
    {
        var row = await FindAsync(caller, name, cancellationToken);
        var current = ToRequest(row);
        var merged = current with
        {
            Description = request.Description ?? current.Description,
            Snapshot = request.Snapshot ?? current.Snapshot,
            Workload = request.Workload ?? current.Workload,
            Resources = request.Resources is { } resources
                ? new SessionResources { Vcpus = resources.Vcpus ?? current.Resources!.Vcpus, MemoryMb = resources.MemoryMb ?? current.Resources!.MemoryMb }
                : current.Resources,
            TimeoutMs = request.TimeoutMs ?? current.TimeoutMs,
            Trigger = request.Trigger ?? current.Trigger,
            Concurrency = request.Concurrency ?? current.Concurrency,
            Status = request.Status ?? current.Status,
            Network = request.Network ?? current.Network,
        };
        var keepSecret = request.Trigger is null || request.Trigger.Type == row.TriggerType && request.Trigger.Signature == row.Signature;
        var valid = DaemonValidator.Validate(merged, snapshots, keepSecret ? row.WebhookSecret : null);
        if (request.Snapshot is not null)
        {
            await snapshots.RequireAsync(caller.WorkspaceId, valid.Definition.Snapshot, "snapshot", cancellationToken);
        }
        if (request.Network is not null)
        {
            network.Check(caller, valid.Definition.Network?.Mode ?? EgressPolicy.None);
        }
        if (request.Workload is not null)
        {
            // Only a new workload is checked: a secret deleted since fails the daemon's runs, not an edit of its schedule.
            await secrets.RequireAsync(caller.WorkspaceId, valid.Definition.Workload.Secrets, WorkloadSecrets, cancellationToken);
        }
        return await SaveAsync(caller, row, valid, cancellationToken);
    }

    public async Task<Daemon> SetStatusAsync(Caller caller, string name, string status, CancellationToken cancellationToken)
    {
        var row = await FindAsync(caller, name, cancellationToken);
        var valid = DaemonValidator.Validate(ToRequest(row) with { Status = status }, snapshots, row.WebhookSecret);
        return await SaveAsync(caller, row, valid, cancellationToken);
    }

    public async Task DeleteAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        if (!await store.DeleteAsync(caller.WorkspaceId, name, cancellationToken))
        {
            throw ApiProblem.NotFound("daemon", name);
        }
    }

    /// <summary>Fires a daemon by hand, as its owner, with an optional JSON payload.</summary>
    public async Task<DaemonTriggerResult> TriggerAsync(Caller caller, string name, JsonElement? payload, CancellationToken cancellationToken)
    {
        var row = await FindAsync(caller, name, cancellationToken);
        var bytes = payload is { } json ? JsonSerializer.SerializeToUtf8Bytes(json, Contracts.KennelJson.Default.JsonElement) : "{}"u8.ToArray();
        return await runs.StartAsync(row, new TriggerEvent(DaemonValues.Manual, bytes), cancellationToken);
    }

    private const string WorkloadSecrets = "workload.secrets";

    private async Task<Daemon> SaveAsync(Caller caller, DaemonRow row, ValidDaemon valid, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var updated = ToRow(valid, row.Id, row.WorkspaceId, DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt), now);
        await store.UpdateAsync(updated, DaemonSchedule.For(updated), now, cancellationToken);
        scheduler.Wake();
        return await GetAsync(caller, row.Name, cancellationToken);
    }

    private async Task<DaemonRow> FindAsync(Caller caller, string name, CancellationToken cancellationToken) =>
        (string.IsNullOrEmpty(name) ? null : await store.GetAsync(caller.WorkspaceId, name, cancellationToken))
        ?? throw ApiProblem.NotFound("daemon", name);

    private static DaemonRow ToRow(ValidDaemon valid, string id, string workspaceId, DateTimeOffset created, DateTimeOffset updated) => new()
    {
        Id = id,
        WorkspaceId = workspaceId,
        Name = valid.Name,
        Definition = JsonSerializer.Serialize(valid.Definition, DaemonJson.Default.StoredDaemonDefinition),
        TriggerType = valid.Trigger.Type,
        Signature = valid.Trigger.Signature,
        SignatureHeader = valid.Trigger.Header,
        WebhookSecret = valid.Trigger.Secret,
        Cron = valid.Trigger.Cron,
        Timezone = valid.Trigger.Timezone,
        CatchUp = valid.Trigger.CatchUp,
        Concurrency = valid.Concurrency,
        Status = valid.Status,
        CreatedAt = created.ToUnixTimeMilliseconds(),
        UpdatedAt = updated.ToUnixTimeMilliseconds(),
    };

    /// <summary>The stored daemon as a full request again (without its secret), so an update is validated whole.</summary>
    private static CreateDaemonRequest ToRequest(DaemonRow row)
    {
        var definition = JsonSerializer.Deserialize(row.Definition, DaemonJson.Default.StoredDaemonDefinition)!;
        return new CreateDaemonRequest
        {
            Name = row.Name,
            Description = definition.Description,
            Snapshot = definition.Snapshot,
            Workload = definition.Workload with { Secrets = definition.Workload.Secrets ?? [] },
            Resources = new SessionResources { Vcpus = definition.Vcpus, MemoryMb = definition.MemoryMb },
            TimeoutMs = definition.TimeoutMs,
            Network = definition.Network,
            Trigger = new DaemonTriggerRequest
            {
                Type = row.TriggerType,
                Signature = row.Signature,
                Header = row.SignatureHeader,
                Cron = row.Cron,
                Timezone = row.Timezone,
                CatchUp = row.CatchUp,
            },
            Concurrency = row.Concurrency,
            Status = row.Status,
        };
    }

    internal static Daemon ToContract(DaemonRow row, DateTimeOffset? nextRunAt)
    {
        var definition = JsonSerializer.Deserialize(row.Definition, DaemonJson.Default.StoredDaemonDefinition)!;
        var webhook = row.TriggerType == DaemonValues.Webhook;
        return new Daemon
        {
            Name = row.Name,
            Workspace = row.WorkspaceName,
            Description = definition.Description,
            Snapshot = definition.Snapshot,
            Workload = definition.Workload with { Secrets = definition.Workload.Secrets ?? [] },
            Resources = new SessionResources { Vcpus = definition.Vcpus, MemoryMb = definition.MemoryMb },
            TimeoutMs = definition.TimeoutMs,
            Network = definition.Network ?? new SessionNetwork { Mode = EgressPolicy.None },
            Trigger = new DaemonTrigger
            {
                Type = row.TriggerType,
                Signature = row.Signature,
                Header = row.SignatureHeader,
                SecretSet = webhook ? row.WebhookSecret is not null : null,
                Unauthenticated = webhook ? row.Signature == WebhookSignature.None : null,
                WebhookPath = webhook ? $"/v1/webhooks/{row.WorkspaceName}/{row.Name}" : null,
                Cron = row.Cron,
                Timezone = row.Timezone,
                CatchUp = row.CatchUp,
                NextRunAt = nextRunAt,
            },
            Concurrency = row.Concurrency,
            Status = row.Status,
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt),
            UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(row.UpdatedAt),
        };
    }
}

public static class DaemonErrors
{
    public const string DaemonExists = "daemon_exists";
    public const string DaemonPaused = "daemon_paused";
    public const string SignatureInvalid = "signature_invalid";
    public const string WebhookReplayed = "webhook_replayed";
}
