using System.Text.Json;
using Kennel.Contracts.Sessions;
using Kennel.Contracts.Workers;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Observability;
using Kennel.ControlPlane.Quotas;
using Kennel.ControlPlane.Secrets;
using Kennel.ControlPlane.Snapshots;
using Kennel.Store;

namespace Kennel.ControlPlane.Sessions;

/// <summary>What people and their tools can do with sessions. REST, CLI and MCP are thin faces over these calls.</summary>
public sealed class SessionService(
    Database database, SessionStore store, QuotaStore quotas, SnapshotCatalog snapshots, SecretService secrets, ChangeSignal signal, KennelMetrics metrics,
    NetworkAccess network, TimeProvider time)
{
    /// <summary>How often a waiter rechecks the store when no in-process signal arrives (a change on another replica).</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromMilliseconds(500);

    public async Task<Session> CreateAsync(Caller caller, CreateSessionRequest request, CancellationToken cancellationToken)
    {
        var valid = CreateSessionValidator.Validate(request, snapshots);
        await snapshots.RequireAsync(caller.WorkspaceId, valid.Snapshot, "snapshot", cancellationToken);
        network.Check(caller, valid.Spec.NetworkMode);
        await secrets.RequireAsync(caller.WorkspaceId, valid.Spec.Secrets, "secrets", cancellationToken);
        var id = SortableId.New("ses", time);
        using var trace = SessionTracing.StartCreate(id, caller.WorkspaceId);
        var row = new SessionRow
        {
            Id = id,
            WorkspaceId = caller.WorkspaceId,
            WorkspaceName = caller.WorkspaceName,
            Status = SessionStatus.Pending.ToWire(),
            Snapshot = valid.Snapshot,
            Spec = JsonSerializer.Serialize(valid.Spec, StoreJson.Default.StoredSessionSpec),
            Vcpus = valid.Vcpus,
            MemoryMb = valid.MemoryMb,
            TimeoutMs = valid.TimeoutMs,
            CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds(),
            TraceParent = trace?.Id,
        };
        await database.WriteAsync(async (connection, transaction) =>
        {
            var (limits, queued) = await quotas.LockQueueAsync(connection, transaction, caller.WorkspaceId, cancellationToken);
            QuotaRefusals.Check(limits, queued, row.Vcpus);
            await SessionStore.InsertAsync(connection, transaction, [row], cancellationToken);
        }, cancellationToken);
        signal.PulseQueue();
        return row.ToContract();
    }

    /// <summary>
    /// Runs a session for an agent's tool call and returns it once it has ended. It is created under <paramref name="id"/>,
    /// reserved (and committed) with the call, and only if no session has that id yet: a resumed run waits for the session
    /// its tool call already started instead of starting another. Stopping the wait leaves the session running: a run
    /// that is aborted cancels its sessions itself, and one whose control plane stops resumes the wait elsewhere.
    /// <paramref name="skills"/> are the agent's skills, mounted under <c>/skills/</c>: an internal part of the spec that no
    /// request can set.
    /// </summary>
    public async Task<Session> RunOnceAsync(
        string workspaceId, string id, CreateSessionRequest request, IReadOnlyList<SessionSkill> skills, CancellationToken cancellationToken)
    {
        var valid = CreateSessionValidator.Validate(request, snapshots);
        await snapshots.RequireAsync(workspaceId, valid.Snapshot, "snapshot", cancellationToken);
        var spec = skills.Count == 0 ? valid.Spec : valid.Spec with { Skills = skills };
        var row = new SessionRow
        {
            Id = id,
            WorkspaceId = workspaceId,
            Status = SessionStatus.Pending.ToWire(),
            Snapshot = valid.Snapshot,
            Spec = JsonSerializer.Serialize(spec, StoreJson.Default.StoredSessionSpec),
            Vcpus = valid.Vcpus,
            MemoryMb = valid.MemoryMb,
            TimeoutMs = valid.TimeoutMs,
            CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        if (await store.GetAsync(workspaceId, id, cancellationToken) is null)
        {
            await database.WriteAsync(async (connection, transaction) =>
            {
                var (limits, queued) = await quotas.LockQueueAsync(connection, transaction, workspaceId, cancellationToken);
                QuotaRefusals.Check(limits, queued, row.Vcpus);
                await SessionStore.InsertAsync(connection, transaction, [row], cancellationToken);
            }, cancellationToken);
            signal.PulseQueue();
        }
        while (true)
        {
            var changed = signal.SessionChanged(id);
            var session = await store.GetAsync(workspaceId, id, cancellationToken) ?? throw ApiProblem.NotFound("session", id);
            if (session.Status.IsTerminal())
            {
                return session;
            }
            await ChangeSignal.WaitAsync(changed, RecheckInterval, time, cancellationToken);
        }
    }

    /// <summary>Cancels a session if it is still live; one that already ended or never existed is left as it is.</summary>
    public async Task CancelQuietlyAsync(string workspaceId, string id)
    {
        var result = await store.CancelAsync(workspaceId, id, time.GetUtcNow().ToUnixTimeMilliseconds(), CancellationToken.None);
        if (result == SessionStore.CancelResult.Cancelled)
        {
            signal.PulseSession(id);
        }
        else if (result == SessionStore.CancelResult.Requested)
        {
            signal.PulseQueue();
        }
    }

    public async Task<Session> GetAsync(Caller caller, string id, CancellationToken cancellationToken) =>
        (SortableId.IsValid(id, "ses") ? await store.GetAsync(caller.WorkspaceId, id, cancellationToken) : null)
        ?? throw ApiProblem.NotFound("session", id);

    public async Task<SessionPage> ListAsync(Caller caller, string? status, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var statuses = new List<string>();
        foreach (var part in (status ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!SessionStatuses.TryParse(part, out _))
            {
                throw ApiProblem.Invalid("status", $"Unknown status '{part}'. Use pending, running, succeeded, failed, timed_out or cancelled, comma-separated.");
            }
            statuses.Add(part);
        }
        var take = limit ?? SessionLimits.DefaultListLimit;
        if (take is < 1 or > SessionLimits.MaxListLimit)
        {
            throw ApiProblem.Invalid("limit", $"limit must be between 1 and {SessionLimits.MaxListLimit}.");
        }
        if (cursor is not null && !SortableId.IsValid(cursor, "ses"))
        {
            throw ApiProblem.Invalid("cursor", "cursor must be the nextCursor of a previous page.");
        }
        // One extra row tells whether there is a next page without a second query.
        var sessions = await store.ListAsync(caller.WorkspaceId, statuses, take + 1, cursor, cancellationToken);
        var page = sessions.Take(take).ToList();
        return new SessionPage(page, sessions.Count > take ? page[^1].Id : null);
    }

    public async Task<Session> CancelAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        var result = SortableId.IsValid(id, "ses")
            ? await store.CancelAsync(caller.WorkspaceId, id, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken)
            : SessionStore.CancelResult.NotFound;
        switch (result)
        {
            case SessionStore.CancelResult.NotFound:
                throw ApiProblem.NotFound("session", id);
            case SessionStore.CancelResult.AlreadyFinished:
                throw ApiProblem.Conflict(ErrorCodes.SessionFinished, $"Session '{id}' has already finished.");
            case SessionStore.CancelResult.Cancelled:
                metrics.SessionEnded(SessionStatus.Cancelled);
                signal.PulseSession(id);
                break;
            default:
                signal.PulseQueue();
                break;
        }
        return await GetAsync(caller, id, cancellationToken);
    }

    /// <summary>Returns the session once it is terminal, or as it stands when <paramref name="timeoutMs"/> runs out.</summary>
    public async Task<Session> WaitAsync(Caller caller, string id, long? timeoutMs, CancellationToken cancellationToken)
    {
        var wait = timeoutMs ?? SessionLimits.DefaultWaitMs;
        if (wait is < 0 or > SessionLimits.MaxWaitMs)
        {
            throw ApiProblem.Invalid("timeoutMs", $"timeoutMs must be between 0 and {SessionLimits.MaxWaitMs}.");
        }
        var deadline = time.GetUtcNow().AddMilliseconds(wait);
        while (true)
        {
            var changed = signal.SessionChanged(id);
            var session = await GetAsync(caller, id, cancellationToken);
            var remaining = deadline - time.GetUtcNow();
            if (session.Status.IsTerminal() || remaining <= TimeSpan.Zero)
            {
                return session;
            }
            await ChangeSignal.WaitAsync(changed, Min(remaining, RecheckInterval), time, cancellationToken);
        }
    }

    /// <summary>
    /// Follows a session: yields its output as it arrives (from the start), and ends once the session is terminal and all
    /// of its output has been yielded.
    /// </summary>
    public async IAsyncEnumerable<SessionOutputEvent> FollowAsync(
        Caller caller, string id, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long stdout = 0, stderr = 0;
        while (true)
        {
            var changed = signal.SessionChanged(id);
            var session = await GetAsync(caller, id, cancellationToken);
            if (session.Status.IsTerminal())
            {
                // The chunks are folded into the row at the end: yield whatever part of it was not followed live.
                foreach (var tail in Tail(session, stdout, stderr))
                {
                    yield return tail;
                }
                yield break;
            }
            foreach (var chunk in await store.ReadOutputAsync(caller.WorkspaceId, id, stdout, stderr, cancellationToken))
            {
                yield return new SessionOutputEvent(chunk.Stream, chunk.Data);
                var end = chunk.ByteOffset + System.Text.Encoding.UTF8.GetByteCount(chunk.Data);
                if (chunk.Stream == "stdout")
                {
                    stdout = end;
                }
                else
                {
                    stderr = end;
                }
            }
            await ChangeSignal.WaitAsync(changed, RecheckInterval, time, cancellationToken);
        }
    }

    private static IEnumerable<SessionOutputEvent> Tail(Session session, long stdoutBytes, long stderrBytes)
    {
        foreach (var (stream, text, seen) in new[] { ("stdout", session.Stdout, stdoutBytes), ("stderr", session.Stderr, stderrBytes) })
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            if (bytes.Length > seen)
            {
                yield return new SessionOutputEvent(stream, System.Text.Encoding.UTF8.GetString(bytes, (int)seen, bytes.Length - (int)seen));
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
