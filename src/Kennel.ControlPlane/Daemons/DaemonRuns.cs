using System.Data.Common;
using System.Text.Json;
using Dapper;
using Kennel.Contracts.Daemons;
using Kennel.Contracts.Sessions;
using Kennel.Contracts.Workers;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;

namespace Kennel.ControlPlane.Daemons;

/// <summary>What fired a daemon, with the payload its session sees as a file.</summary>
public sealed record TriggerEvent(string Type, byte[] Payload, DateTimeOffset? ScheduledFor = null, bool CatchUp = false);

/// <summary>
/// Starts a daemon's run, whatever fired it (a webhook, its schedule, a person): under a lock on the daemon, applies its
/// concurrency policy against its live sessions and inserts the session, in one transaction.
/// </summary>
public sealed class DaemonRuns(Database database, DaemonStore store, ChangeSignal signal, TimeProvider time)
{
    public async Task<DaemonTriggerResult> StartAsync(DaemonRow daemon, TriggerEvent trigger, CancellationToken cancellationToken)
    {
        var result = await database.WriteAsync((connection, transaction) =>
            StartAsync(connection, transaction, daemon.WorkspaceId, daemon.Id, trigger, cancellationToken), cancellationToken)
            ?? throw Http.ApiProblem.NotFound("daemon", daemon.Name);
        if (result.SessionId is not null)
        {
            signal.PulseQueue();
        }
        return result;
    }

    /// <summary>Inside a caller's transaction (the scheduler's). Null when the daemon no longer exists.</summary>
    internal async Task<DaemonTriggerResult?> StartAsync(
        DbConnection connection, DbTransaction transaction, string workspaceId, string daemonId, TriggerEvent trigger, CancellationToken cancellationToken)
    {
        var daemon = await store.LockAsync(connection, transaction, workspaceId, daemonId, cancellationToken);
        if (daemon is null)
        {
            return null;
        }
        var live = daemon.Concurrency == DaemonValues.Allow ? 0 : await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT COUNT(*) FROM sessions WHERE daemon_id = @daemonId AND status IN {SessionStore.NonTerminal}",
            new { daemonId }, transaction, cancellationToken: cancellationToken));
        if (live > 0 && daemon.Concurrency == DaemonValues.Skip)
        {
            return new DaemonTriggerResult(daemon.Name, "skipped", null, "The daemon's previous run is still live and its concurrency is skip.");
        }
        var held = live > 0 && daemon.Concurrency == DaemonValues.Queue;
        var row = SessionFor(daemon, trigger, held);
        await SessionStore.InsertAsync(connection, transaction, row, cancellationToken);
        return new DaemonTriggerResult(daemon.Name, held ? "queued" : "started", row.Id);
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
            NetworkMode = "none",
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
