using System.Collections.Concurrent;
using System.Data.Common;
using System.Text.Json;
using Dapper;
using Kennel.Contracts.Sessions;
using Kennel.Contracts.Workers;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Observability;
using Kennel.ControlPlane.Quotas;
using Kennel.ControlPlane.Secrets;
using Kennel.ControlPlane.Snapshots;
using Kennel.Sandbox.Snapshots;
using Kennel.Store;

namespace Kennel.ControlPlane.Sessions;

/// <summary>
/// The durable queue between the API and the workers. Sessions wait here as <c>pending</c>; a worker's poll claims what
/// fits its free capacity under a lease; the worker's reports move them on; a lease that runs out ends them as
/// <c>worker_lost</c>. Every step is a conditional update in one transaction, so replicas and retries cannot
/// double-claim or double-finish. Workers serve every workspace, so these queries span workspaces by design; they
/// are reachable only with a worker credential.
/// </summary>
public sealed class SessionQueue(Database database, SecretService secrets, QuotaStore quotas, ChangeSignal signal, ControlPlaneOptions options,
    KennelMetrics metrics, TimeProvider time)
{
    // How deep into each workspace's queue a claim looks for a session that fits what is free.
    private const int CandidatesPerWorkspace = 32;

    // Any fixed number, distinct from the migrator's lock.
    private const long ClaimLockKey = 0x4b4e4c5f434c4d;

    // A busy worker polls again right after every assignment. Renewing leases and reconciling on each of those polls
    // would put a heavy write in the path of every session; once a second (well inside any lease) is enough.
    private readonly ConcurrentDictionary<string, long> lastHeartbeat = new(StringComparer.Ordinal);

    public async Task<PollResponse> PollAsync(string workerId, PollRequest request, CancellationToken cancellationToken)
    {
        if (request.Capacity is not null)
        {
            Workers.WorkerRegistry.ValidateCapacity(request.Capacity);
        }
        var wait = TimeSpan.FromMilliseconds(Math.Clamp(request.WaitMs, 0, (int)options.MaxPollWait.TotalMilliseconds));
        var deadline = time.GetUtcNow() + wait;
        var first = HeartbeatDue(workerId);
        while (true)
        {
            var queueChanged = signal.QueueChanged();
            var settled = new Settlement();
            var response = await database.WriteAsync((connection, transaction) => first
                ? HeartbeatAndClaimAsync(connection, transaction, workerId, request, settled, cancellationToken)
                : ClaimAsync(connection, transaction, workerId, settled, cancellationToken), cancellationToken);
            first = false;
            // Waiters are woken, and the figures taken, only once the transaction that settled their session has committed.
            settled.Ids.ForEach(signal.PulseSession);
            settled.Ended.ForEach(metrics.SessionEnded);
            var claimedAt = time.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var claimed in settled.Claimed)
            {
                metrics.QueueWait(claimed.CreatedAt, claimedAt);
                SessionTracing.Queued(claimed.TraceParent, claimed.Id, workerId, claimed.CreatedAt, claimedAt);
            }
            var remaining = deadline - time.GetUtcNow();
            if (response.Assignments.Count > 0 || response.Cancel.Count > 0 || remaining <= TimeSpan.Zero)
            {
                return response;
            }
            await ChangeSignal.WaitAsync(queueChanged, remaining < SessionService.RecheckInterval ? remaining : SessionService.RecheckInterval,
                time, cancellationToken);
        }
    }

    private bool HeartbeatDue(string workerId)
    {
        var now = time.GetTimestamp();
        var interval = Math.Min(1000, options.LeaseTtl.TotalMilliseconds / 4);
        if (lastHeartbeat.TryGetValue(workerId, out var last) && time.GetElapsedTime(last, now).TotalMilliseconds < interval)
        {
            return false;
        }
        lastHeartbeat[workerId] = now;
        return true;
    }

    public async Task<ReportResponse> ReportAsync(string workerId, string sessionId, SessionReport report, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        long? startedAt = null;
        var ended = false;
        var (session, cancel) = await database.WriteAsync(async (connection, transaction) =>
        {
            var session = await connection.QuerySingleOrDefaultAsync<SessionRow>(new CommandDefinition(
                "SELECT id, worker_id, status, cancel_requested_at, created_at, started_at, trace_parent FROM sessions WHERE id = @sessionId",
                new { sessionId }, transaction, cancellationToken: cancellationToken));
            if (session is null || session.WorkerId != workerId || session.Status is not ("pending" or "running"))
            {
                throw ApiProblem.Conflict(ErrorCodes.SessionNotAssigned,
                    $"Session '{sessionId}' is not live on this worker; stop running it and drop it.");
            }
            startedAt = session.StartedAt;
            if (report.Started && session.Status == "pending")
            {
                startedAt = now - Math.Clamp(report.RunningForMs, 0, 60_000);
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE sessions SET status = 'running', started_at = @startedAt WHERE id = @sessionId AND status = 'pending'",
                    new { sessionId, startedAt }, transaction, cancellationToken: cancellationToken));
            }
            await AppendOutputAsync(connection, transaction, sessionId, report.Output, cancellationToken);
            if (report.Exit is { } exit)
            {
                if (!exit.Status.IsTerminal())
                {
                    throw ApiProblem.Invalid("exit.status", "An exit must carry a terminal status.");
                }
                // Status and exit code agree (README, Sessions): a session that did not succeed never shows exit code 0,
                // whatever a worker of another version reports.
                var exitCode = exit.Status == SessionStatus.Succeeded || exit.ExitCode != 0 ? exit.ExitCode : null;
                ended = await SessionStore.FinishAsync(connection, transaction, sessionId,
                    new SessionOutcome(exit.Status, exitCode, exit.Error, exit.WallSeconds, exit.CpuSeconds, exit.Egress), now, cancellationToken);
                // An exit without a start report implies the start (FinishAsync records it the same way).
                var wallMs = (long)(exit.WallSeconds * 1000);
                startedAt ??= wallMs > 0 ? now - wallMs : null;
            }
            return (session, session.CancelRequestedAt is not null);
        }, cancellationToken);
        Observe(session, report, workerId, startedAt, ended, now);
        signal.PulseSession(sessionId);
        if (report.Exit is not null)
        {
            signal.PulseQueue(); // capacity came free
        }
        return new ReportResponse(cancel);
    }

    /// <summary>The figures and spans of a committed report: the start's latency once, and the end.</summary>
    private void Observe(SessionRow session, SessionReport report, string workerId, long? startedAt, bool ended, long now)
    {
        if (session.StartedAt is null && startedAt is { } started && (report.Started || ended))
        {
            metrics.SessionStarted(session.CreatedAt, started);
        }
        if (ended && report.Exit is { } exit)
        {
            metrics.SessionEnded(exit.Status);
            SessionTracing.Ran(session.TraceParent, session.Id, workerId, startedAt ?? now, now, exit.Status.ToWire());
        }
    }

    /// <summary>Ends or requeues sessions whose worker stopped polling. Returns how many it settled.</summary>
    public async Task<int> ReapExpiredLeasesAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var settled = await database.WriteAsync(async (connection, transaction) =>
        {
            var expired = await connection.QueryAsync<SessionRow>(new CommandDefinition(
                $"SELECT id, status, cancel_requested_at FROM sessions WHERE status IN {SessionStore.NonTerminal} " +
                "AND worker_id IS NOT NULL AND lease_expires_at < @now", new { now }, transaction, cancellationToken: cancellationToken));
            var settlement = new Settlement();
            foreach (var session in expired)
            {
                await SettleLostAsync(connection, transaction, session, "The worker running this session stopped heartbeating.", now, settlement, cancellationToken);
            }
            return settlement;
        }, cancellationToken);
        settled.Ids.ForEach(signal.PulseSession);
        settled.Ended.ForEach(metrics.SessionEnded);
        if (settled.Ids.Count > 0)
        {
            signal.PulseQueue();
        }
        return settled.Ids.Count;
    }

    /// <summary>
    /// After the control plane itself was down, no worker could heartbeat. Give every lease a fresh term at start, so
    /// workers that kept running through the outage can report in before they are written off.
    /// </summary>
    public Task RenewAllLeasesAsync(CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE sessions SET lease_expires_at = @lease WHERE status IN {SessionStore.NonTerminal} AND worker_id IS NOT NULL",
            new { lease = LeaseFrom(time.GetUtcNow().ToUnixTimeMilliseconds()) }, transaction, cancellationToken: cancellationToken)),
            cancellationToken);

    private async Task<PollResponse> HeartbeatAndClaimAsync(
        DbConnection connection, DbTransaction transaction, string workerId, PollRequest request, Settlement settled, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE workers SET last_seen_at = @now, vcpus = COALESCE(@vcpus, vcpus), memory_mb = COALESCE(@memoryMb, memory_mb), " +
            "slots = COALESCE(@slots, slots), snapshots = COALESCE(@snapshots, snapshots) WHERE id = @workerId",
            new
            {
                now,
                workerId,
                vcpus = request.Capacity?.Vcpus,
                memoryMb = request.Capacity?.MemoryMb,
                slots = request.Capacity?.Slots,
                snapshots = request.Snapshots is { } holding ? JsonSerializer.Serialize(holding.Where(SnapshotImage.IsDigest).Take(1024).ToArray(), StoreJson.Default.StringArray) : null,
            },
            transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE sessions SET lease_expires_at = @lease WHERE worker_id = @workerId AND status IN {SessionStore.NonTerminal}",
            new { workerId, lease = LeaseFrom(now) }, transaction, cancellationToken: cancellationToken));

        // The worker lists everything it holds. Anything assigned to it that it does not hold never arrived (a lost poll
        // response: requeue it) or died with a previous process of the worker (it was running: it is lost).
        var held = request.Held.ToHashSet(StringComparer.Ordinal);
        var assigned = await connection.QueryAsync<SessionRow>(new CommandDefinition(
            $"SELECT id, status, cancel_requested_at FROM sessions WHERE worker_id = @workerId AND status IN {SessionStore.NonTerminal}",
            new { workerId }, transaction, cancellationToken: cancellationToken));
        foreach (var orphan in assigned.Where(s => !held.Contains(s.Id)))
        {
            await SettleLostAsync(connection, transaction, orphan, "The worker restarted and no longer runs this session.", now, settled, cancellationToken);
        }
        return await ClaimAsync(connection, transaction, workerId, settled, cancellationToken);
    }

    private async Task<PollResponse> ClaimAsync(
        DbConnection connection, DbTransaction transaction, string workerId, Settlement settled, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var cancel = (await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT id FROM sessions WHERE worker_id = @workerId AND status IN {SessionStore.NonTerminal} AND cancel_requested_at IS NOT NULL",
            new { workerId }, transaction, cancellationToken: cancellationToken))).ToList();

        var capacity = await connection.QuerySingleAsync<CapacityRow>(new CommandDefinition(
            "SELECT w.vcpus - COALESCE(SUM(s.vcpus), 0) AS vcpus, w.memory_mb - COALESCE(SUM(s.memory_mb), 0) AS memory_mb, " +
            "w.slots - COUNT(s.id) AS slots, w.draining_since FROM workers w " +
            $"LEFT JOIN sessions s ON s.worker_id = w.id AND s.status IN {SessionStore.NonTerminal} " +
            "WHERE w.id = @workerId GROUP BY w.id, w.vcpus, w.memory_mb, w.slots, w.draining_since", new { workerId }, transaction, cancellationToken: cancellationToken));
        // A worker being drained (delete-server) finishes what it runs and is offered nothing new.
        var free = capacity.DrainingSince is null ? new FreeCapacity(capacity.Vcpus, capacity.MemoryMb, capacity.Slots) : new FreeCapacity(0, 0, 0);
        var claimed = free.Slots > 0 ? await PickAsync(connection, transaction, free, cancellationToken) : [];
        if (claimed.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                $"UPDATE sessions SET worker_id = @workerId, lease_expires_at = @lease WHERE id {database.InList("ids")} AND status = 'pending' AND worker_id IS NULL",
                new { workerId, lease = LeaseFrom(now), ids = claimed.Select(c => c.Id).ToArray() }, transaction, cancellationToken: cancellationToken));
        }
        var assignments = await AssignAsync(connection, transaction, claimed, now, settled, cancellationToken);
        return new PollResponse(assignments, cancel, (int)options.LeaseTtl.TotalMilliseconds);
    }

    /// <summary>
    /// Reads each workspace's oldest queued sessions and what every workspace has claimed, and lets <see cref="FairShare"/>
    /// choose. On PostgreSQL, replicas take turns (a transaction-scoped advisory lock), so two claims at once cannot both
    /// see a workspace under its limit and together take it past.
    /// </summary>
    private async Task<List<SessionRow>> PickAsync(DbConnection connection, DbTransaction transaction, FreeCapacity free, CancellationToken cancellationToken)
    {
        if (database.Provider == StoreProvider.Postgres)
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@key)", new { key = ClaimLockKey }, transaction,
                cancellationToken: cancellationToken));
        }
        var queued = (await connection.QueryAsync<SessionRow>(new CommandDefinition(
            "SELECT id, workspace_id, snapshot, spec, vcpus, memory_mb, timeout_ms, created_at, trace_parent FROM sessions WHERE id IN (SELECT id FROM " +
            "(SELECT id, ROW_NUMBER() OVER (PARTITION BY workspace_id ORDER BY id) AS place FROM sessions " +
            "WHERE status = 'pending' AND worker_id IS NULL AND cancel_requested_at IS NULL AND held = 0) queued WHERE place <= @perWorkspace) " +
            "ORDER BY id" + database.SkipLocked,
            new { perWorkspace = CandidatesPerWorkspace }, transaction, cancellationToken: cancellationToken))).ToList();
        if (queued.Count == 0)
        {
            return [];
        }
        var workspaces = queued.Select(s => s.WorkspaceId).Distinct(StringComparer.Ordinal).ToArray();
        var claimed = (await connection.QueryAsync<(string WorkspaceId, long Sessions, long Vcpus)>(new CommandDefinition(
            "SELECT workspace_id, COUNT(*), COALESCE(SUM(vcpus), 0) FROM sessions " +
            $"WHERE worker_id IS NOT NULL AND status IN {SessionStore.NonTerminal} GROUP BY workspace_id",
            transaction: transaction, cancellationToken: cancellationToken)))
            .ToDictionary(c => c.WorkspaceId, c => new Claimed(c.Sessions, c.Vcpus), StringComparer.Ordinal);
        foreach (var (workspaceId, lastClaimedAt) in await connection.QueryAsync<(string, long)>(new CommandDefinition(
            $"SELECT workspace_id, last_claimed_at FROM workspace_turns WHERE workspace_id {database.InList("workspaces")}", new { workspaces },
            transaction, cancellationToken: cancellationToken)))
        {
            claimed[workspaceId] = claimed.GetValueOrDefault(workspaceId) with { LastClaimedAt = lastClaimedAt };
        }
        var limits = await quotas.LimitsAsync(connection, transaction, workspaces, cancellationToken);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var picked = FairShare.Pick(free, queued, claimed, limits, now);
        foreach (var workspaceId in picked.Select(s => s.WorkspaceId).Distinct(StringComparer.Ordinal))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO workspace_turns (workspace_id, last_claimed_at) VALUES (@workspaceId, @now) " +
                "ON CONFLICT (workspace_id) DO UPDATE SET last_claimed_at = excluded.last_claimed_at", new { workspaceId, now }, transaction,
                cancellationToken: cancellationToken));
        }
        return picked;
    }

    /// <summary>
    /// What the worker is sent for each claimed session, with the values of the secrets it names in its env: resolved now,
    /// at the claim, so they never rest in the session's row. A session whose secret was deleted (or cannot be decrypted)
    /// since it was created ends <c>failed</c> in the claim's transaction without running, and the worker never hears of it.
    /// </summary>
    private async Task<List<SessionAssignment>> AssignAsync(
        DbConnection connection, DbTransaction transaction, List<SessionRow> claimed, long now, Settlement settled, CancellationToken cancellationToken)
    {
        var assignments = new List<SessionAssignment>(claimed.Count);
        foreach (var row in claimed)
        {
            var spec = JsonSerializer.Deserialize(row.Spec, StoreJson.Default.StoredSessionSpec)!;
            var snapshot = await SessionSnapshots.ResolveAsync(connection, transaction, row, cancellationToken);
            if (snapshot.Error is { } snapshotError)
            {
                await FailUnstartedAsync(connection, transaction, row.Id, snapshotError, now, cancellationToken);
                settled.Ids.Add(row.Id);
                settled.Ended.Add(SessionStatus.Failed);
                continue;
            }
            spec = snapshot.Apply(spec);
            if (spec.Secrets is not { Count: > 0 } names)
            {
                settled.Claimed.Add(row);
                assignments.Add(ToAssignment(row, spec, spec.Env));
                continue;
            }
            var resolved = await secrets.ResolveAsync(row.WorkspaceId, names, cancellationToken);
            if (resolved.Missing.Count > 0 || resolved.Unreadable.Count > 0)
            {
                await FailUnstartedAsync(connection, transaction, row.Id, SecretFailure(resolved), now, cancellationToken);
                settled.Ids.Add(row.Id);
                settled.Ended.Add(SessionStatus.Failed);
                continue;
            }
            // A daemon's run sets KENNEL_DAEMON and the trigger variables in its env; those are Kennel's and win over a secret.
            var env = new Dictionary<string, string>(resolved.Values, StringComparer.Ordinal);
            foreach (var (name, value) in spec.Env)
            {
                env[name] = value;
            }
            settled.Claimed.Add(row);
            assignments.Add(ToAssignment(row, spec, env));
        }
        return assignments;
    }

    private static SessionError SecretFailure(ResolvedSecrets resolved) => resolved.Missing.Count > 0
        ? new SessionError(ErrorCodes.SecretNotFound,
            $"The secret '{resolved.Missing[0]}' no longer exists in this workspace (deleted after the session was created), so the session did not run.")
        : new SessionError(ErrorCodes.SecretUnreadable,
            $"The secret '{resolved.Unreadable[0]}' cannot be decrypted (the control plane's key-encryption key is not the one it was stored with), " +
            "so the session did not run. The server log has the cause.");

    /// <summary>Ends a claimed session that never reached a worker, as if it had never been claimed.</summary>
    private static async Task FailUnstartedAsync(
        DbConnection connection, DbTransaction transaction, string id, SessionError error, long now, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE sessions SET status = 'failed', error_code = @Code, error_message = @Message, ended_at = @now, worker_id = NULL, " +
            "lease_expires_at = NULL WHERE id = @id AND status = 'pending'",
            new { id, error.Code, error.Message, now }, transaction, cancellationToken: cancellationToken));

    private static async Task SettleLostAsync(
        DbConnection connection, DbTransaction transaction, SessionRow session, string why, long now, Settlement settled, CancellationToken cancellationToken)
    {
        settled.Ids.Add(session.Id);
        var outcome = session.CancelRequestedAt is not null ? new SessionOutcome(SessionStatus.Cancelled)
            : session.Status == "running" ? new SessionOutcome(SessionStatus.Failed, Error: new SessionError("worker_lost", why))
            : null;
        if (outcome is not null)
        {
            if (await SessionStore.FinishAsync(connection, transaction, session.Id, outcome, now, cancellationToken))
            {
                settled.Ended.Add(outcome.Status);
            }
        }
        else
        {
            // Never started, so nothing ran: back to the queue for another worker.
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE sessions SET worker_id = NULL, lease_expires_at = NULL WHERE id = @Id AND status = 'pending'",
                new { session.Id }, transaction, cancellationToken: cancellationToken));
        }
    }

    private async Task AppendOutputAsync(
        DbConnection connection, DbTransaction transaction, string sessionId, IReadOnlyList<OutputChunk>? output, CancellationToken cancellationToken)
    {
        if (output is null)
        {
            return;
        }
        foreach (var chunk in output)
        {
            if (chunk.Stream is not ("stdout" or "stderr") || chunk.Offset < 0)
            {
                throw ApiProblem.Invalid("output", "A chunk's stream is stdout or stderr and its offset is not negative.");
            }
            if (chunk.Truncated)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE sessions SET truncated = 1 WHERE id = @sessionId", new { sessionId }, transaction, cancellationToken: cancellationToken));
            }
            // The worker enforces the cap; this is the control plane's own guard against a worker that does not.
            if (chunk.Data.Length == 0 || chunk.Offset >= options.OutputLimitBytes)
            {
                continue;
            }
            // PostgreSQL text cannot hold NUL. SUB, the ASCII "substitute" character, takes its place on both stores: it is one
            // UTF-8 byte too, so the byte offsets of this chunk and the next still line up.
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO session_output (session_id, stream, byte_offset, data) VALUES (@sessionId, @Stream, @Offset, @Data) " +
                "ON CONFLICT (session_id, stream, byte_offset) DO NOTHING",
                new { sessionId, chunk.Stream, chunk.Offset, Data = chunk.Data.Replace('\0', '\u001a') }, transaction,
                cancellationToken: cancellationToken));
        }
    }

    private SessionAssignment ToAssignment(SessionRow row, StoredSessionSpec spec, IReadOnlyDictionary<string, string> env) =>
        new()
        {
            SessionId = row.Id,
            Snapshot = row.Snapshot,
            Argv = spec.Argv(),
            Env = env,
            TimeoutMs = row.TimeoutMs,
            Vcpus = row.Vcpus,
            MemoryMb = row.MemoryMb,
            OutputLimitBytes = options.OutputLimitBytes,
            Files = spec.Files,
            Skills = spec.Skills,
            SnapshotDigest = row.SnapshotDigest,
            Network = spec.Network(),
        };

    private long LeaseFrom(long now) => now + (long)options.LeaseTtl.TotalMilliseconds;

    /// <summary>What a transaction did to sessions, acted on once it has committed.</summary>
    private sealed class Settlement
    {
        /// <summary>Sessions it ended or requeued, whose waiters to wake.</summary>
        public List<string> Ids { get; } = [];

        /// <summary>The final status of each session it ended.</summary>
        public List<SessionStatus> Ended { get; } = [];

        /// <summary>Sessions it handed to the worker.</summary>
        public List<SessionRow> Claimed { get; } = [];
    }

    private sealed class CapacityRow
    {
        public int Vcpus { get; set; }
        public int MemoryMb { get; set; }
        public int Slots { get; set; }
        public long? DrainingSince { get; set; }
    }
}
