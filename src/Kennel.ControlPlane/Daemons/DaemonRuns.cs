using Kennel.Sandbox.Network;
using System.Data.Common;
using System.Text.Json;
using Dapper;
using Kennel.Contracts.Daemons;
using Kennel.Contracts.Sessions;
using Kennel.Contracts.Workers;
using Kennel.Contracts.Quotas;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Quotas;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;

namespace Kennel.ControlPlane.Daemons;

/// <summary>
/// What fired a daemon, with the payload its session sees as a file. A webhook's <paramref name="Delivery"/> is
/// remembered with the run, and a delivery remembered before starts nothing.
/// </summary>
public sealed record TriggerEvent(string Type, byte[] Payload, DateTimeOffset? ScheduledFor = null, bool CatchUp = false, WebhookDelivery? Delivery = null);

/// <summary>One run to start: the daemon (by id, within its workspace) and what fired it.</summary>
internal sealed record DaemonRunRequest(string WorkspaceId, string DaemonId, TriggerEvent Trigger);

/// <summary>
/// Starts a daemon's run, whatever fired it (a webhook, its schedule, a person): under a lock on the daemon, applies its
/// concurrency policy against its live sessions and inserts the session, in one transaction.
/// </summary>
public sealed class DaemonRuns(Database database, DaemonStore store, QuotaStore quotas, ChangeSignal signal, TimeProvider time)
{
    public async Task<DaemonTriggerResult> StartAsync(DaemonRow daemon, TriggerEvent trigger, CancellationToken cancellationToken)
    {
        var results = await database.WriteAsync(async (connection, transaction) =>
        {
            if (trigger.Delivery is { } delivery
                && !await WebhookDeliveries.RememberAsync(connection, transaction, daemon.WorkspaceId, daemon.Id, delivery, time.GetUtcNow(), cancellationToken))
            {
                throw ApiProblem.Conflict(DaemonErrors.WebhookReplayed,
                    $"Daemon '{daemon.Name}' already received this delivery (the same signed body or X-GitHub-Delivery id, or the same signed Slack request) " +
                    "within the replay window; it was not run again.");
            }
            return await StartAsync(connection, transaction, [new DaemonRunRequest(daemon.WorkspaceId, daemon.Id, trigger)], cancellationToken);
        }, cancellationToken);
        var result = results[0] ?? throw ApiProblem.NotFound("daemon", daemon.Name);
        if (result.SessionId is not null)
        {
            signal.PulseQueue();
        }
        return result;
    }

    /// <summary>
    /// Inside a caller's transaction (the scheduler's, for a batch of runs). For each request in order: what it did, or
    /// null when its daemon no longer exists in its workspace.
    /// </summary>
    internal async Task<IReadOnlyList<DaemonTriggerResult?>> StartAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<DaemonRunRequest> requests, CancellationToken cancellationToken)
    {
        var daemons = await store.LockAsync(connection, transaction, [.. requests.Select(r => r.WorkspaceId).Distinct()],
            [.. requests.Select(r => r.DaemonId)], cancellationToken);
        var guarded = daemons.Values.Where(d => d.Concurrency != DaemonValues.Allow).Select(d => d.Id).ToArray();
        var live = guarded.Length == 0
            ? new Dictionary<string, long>(StringComparer.Ordinal)
            : (await connection.QueryAsync<(string DaemonId, long Count)>(new CommandDefinition(
                $"SELECT daemon_id, COUNT(*) FROM sessions WHERE daemon_id {database.InList("guarded")} AND status IN {SessionStore.NonTerminal} GROUP BY daemon_id",
                new { guarded }, transaction, cancellationToken: cancellationToken))).ToDictionary(l => l.DaemonId, l => l.Count, StringComparer.Ordinal);
        // Each workspace's queue is counted under a lock on its row (PostgreSQL), taken in one order by every batch so two
        // replicas' batches cannot wait on each other.
        var queues = new Dictionary<string, (WorkspaceLimits Limits, long Queued)>(StringComparer.Ordinal);
        foreach (var workspaceId in daemons.Values.Select(d => d.WorkspaceId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            queues[workspaceId] = await quotas.LockQueueAsync(connection, transaction, workspaceId, cancellationToken);
        }
        var results = new List<DaemonTriggerResult?>(requests.Count);
        var sessions = new List<SessionRow>(requests.Count);
        foreach (var request in requests)
        {
            if (!daemons.TryGetValue(request.DaemonId, out var daemon) || daemon.WorkspaceId != request.WorkspaceId)
            {
                results.Add(null);
                continue;
            }
            var running = live.GetValueOrDefault(daemon.Id);
            if (running > 0 && daemon.Concurrency == DaemonValues.Skip)
            {
                results.Add(new DaemonTriggerResult(daemon.Name, "skipped", null, "The daemon's previous run is still live and its concurrency is skip."));
                continue;
            }
            var held = running > 0 && daemon.Concurrency == DaemonValues.Queue;
            var row = SessionFor(daemon, request.Trigger, held);
            var queue = queues[daemon.WorkspaceId];
            if (QuotaRefusals.Why(queue.Limits, queue.Queued, row.Vcpus) is { } refused)
            {
                results.Add(new DaemonTriggerResult(daemon.Name, "skipped", null, refused));
                continue;
            }
            queues[daemon.WorkspaceId] = (queue.Limits, queue.Queued + 1);
            sessions.Add(row);
            live[daemon.Id] = running + 1;
            results.Add(new DaemonTriggerResult(daemon.Name, held ? "queued" : "started", row.Id));
        }
        await SessionStore.InsertAsync(connection, transaction, sessions, cancellationToken);
        return results;
    }

    private SessionRow SessionFor(DaemonRow daemon, TriggerEvent trigger, bool held)
    {
        var definition = JsonSerializer.Deserialize(daemon.Definition, DaemonJson.Default.StoredDaemonDefinition)!;
        var env = new Dictionary<string, string>(definition.Workload.Env ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            ["KENNEL_DAEMON"] = daemon.Name,
            ["KENNEL_TRIGGER_TYPE"] = trigger.Type,
            ["KENNEL_TRIGGER_PAYLOAD"] = DaemonValues.PayloadPath,
        };
        var spec = new StoredSessionSpec
        {
            Script = definition.Workload.Script,
            Command = definition.Workload.Command,
            Env = env,
            Secrets = definition.Workload.Secrets is { Count: > 0 } secrets ? secrets : null,
            NetworkMode = definition.Network?.Mode ?? EgressPolicy.None,
            NetworkAllow = definition.Network?.Allow,
            NetworkByteCap = definition.Network?.ByteCap,
            Metadata = new Dictionary<string, string>(StringComparer.Ordinal),
            Files = [new SessionFile(DaemonValues.PayloadPath, Convert.ToBase64String(trigger.Payload))],
        };
        return new SessionRow
        {
            Id = SortableId.New("ses", time),
            WorkspaceId = daemon.WorkspaceId,
            Status = SessionStatus.Pending.ToWire(),
            Snapshot = definition.Snapshot,
            Spec = JsonSerializer.Serialize(spec, StoreJson.Default.StoredSessionSpec),
            Vcpus = definition.Vcpus,
            MemoryMb = definition.MemoryMb,
            TimeoutMs = definition.TimeoutMs,
            CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds(),
            DaemonId = daemon.Id,
            Daemon = daemon.Name,
            TriggerType = trigger.Type,
            ScheduledFor = trigger.ScheduledFor?.ToUnixTimeMilliseconds(),
            CatchUp = trigger.CatchUp ? 1 : 0,
            Held = held ? 1 : 0,
        };
    }
}
