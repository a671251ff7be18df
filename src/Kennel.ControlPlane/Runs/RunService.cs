using System.Runtime.CompilerServices;
using Kennel.Agents.Providers;
using Kennel.Contracts.Conversations;
using Kennel.ControlPlane.Agents;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Conversations;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;

namespace Kennel.ControlPlane.Runs;

/// <summary>
/// What people and their tools can do with runs: send a message (and wait, or not), follow a run's progress, read, list,
/// cancel and abort. REST, CLI and MCP are thin faces over these calls.
/// </summary>
public sealed class RunService(RunStore store, ConversationService conversations, AgentService agents, LiveRuns live, ChangeSignal signal,
    TimeProvider time)
{
    public const long DefaultWaitMs = 50_000;
    public const long MaxWaitMs = 300_000;
    public const int DefaultListLimit = 20;
    public const int MaxListLimit = 100;
    public const string RunFinished = "run_finished";
    public const string NoActiveRun = "no_active_run";

    /// <summary>
    /// Queues a turn answering <paramref name="message"/> in a conversation (by id, or by key for the agent, <c>main</c>
    /// when none is named) and waits up to <paramref name="waitMs"/> for it. A run still going then is returned as
    /// <c>running</c>; the caller continues with <see cref="GetAsync"/> or <see cref="WaitAsync"/>.
    /// </summary>
    public async Task<Run> SendAsync(Caller caller, string? conversation, string? agent, string message, long? waitMs,
        CancellationToken cancellationToken)
    {
        var wait = WaitMs(waitMs);
        var run = await StartAsync(caller, conversation, agent, message, cancellationToken);
        return wait == 0 ? run : await WaitAsync(caller, run.Id, wait, cancellationToken);
    }

    /// <summary>Queues the turn and returns its run at once. With no provider for the agent's model it fails here, saying how to add one.</summary>
    public async Task<Run> StartAsync(Caller caller, string? conversation, string? agent, string message, CancellationToken cancellationToken)
    {
        var text = ConversationValidator.Message(message);
        var found = await conversations.FindTargetAsync(caller, conversation, agent, cancellationToken);
        try
        {
            await agents.RequireProviderAsync(caller.WorkspaceId, found.Agent, cancellationToken);
        }
        catch (ProviderException unusable)
        {
            throw ApiProblem.Conflict(unusable.Code, unusable.Message);
        }
        var target = await conversations.EnsureAsync(caller, found, cancellationToken);
        var row = new RunRow
        {
            Id = SortableId.New("run", time),
            WorkspaceId = caller.WorkspaceId,
            ConversationId = target.Id,
            Agent = target.Agent,
            Status = RunStatus.Queued.ToWire(),
            Message = text,
            CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        await store.InsertAsync(row, cancellationToken);
        signal.PulseRunQueue();
        return row.ToContract();
    }

    public async Task<Run> GetAsync(Caller caller, string id, CancellationToken cancellationToken) =>
        (await RowAsync(caller, id, cancellationToken)).ToContract();

    /// <summary>Returns the run once it has ended, or as it stands when <paramref name="waitMs"/> runs out.</summary>
    public async Task<Run> WaitAsync(Caller caller, string id, long? waitMs, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow().AddMilliseconds(WaitMs(waitMs));
        while (true)
        {
            var changed = signal.RunChanged(id);
            var run = await GetAsync(caller, id, cancellationToken);
            var remaining = deadline - time.GetUtcNow();
            if (run.Status.IsTerminal() || remaining <= TimeSpan.Zero)
            {
                return run;
            }
            await ChangeSignal.WaitAsync(changed, remaining < SessionService.RecheckInterval ? remaining : SessionService.RecheckInterval, time,
                cancellationToken);
        }
    }

    public async Task<RunPage> ListAsync(Caller caller, string? conversationId, string? status, int? limit, string? cursor,
        CancellationToken cancellationToken)
    {
        var statuses = new List<string>();
        foreach (var part in (status ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            statuses.Add(RunStatuses.TryParse(part, out _)
                ? part
                : throw ApiProblem.Invalid("status", $"Unknown status '{part}'. Use queued, running, succeeded, failed, cancelled or timed_out, comma-separated."));
        }
        var take = ConversationValidator.Limit(limit, DefaultListLimit, MaxListLimit);
        if (cursor is not null && !SortableId.IsValid(cursor, "run"))
        {
            throw ApiProblem.Invalid("cursor", "cursor must be the nextCursor of a previous page.");
        }
        if (conversationId is not null)
        {
            _ = await conversations.RowAsync(caller, conversationId, cancellationToken);
        }
        var rows = await store.ListAsync(caller.WorkspaceId, conversationId, statuses, cursor, take + 1, cancellationToken);
        var page = rows.Take(take).ToList();
        return new RunPage([.. page.Select(row => row.ToContract())], rows.Count > take ? page[^1].Id : null);
    }

    /// <summary>
    /// Stops a run: a queued one never starts; a running one has its model stream closed and its sandbox sessions
    /// cancelled by the control plane running it (this one at once, another within a fraction of a second). What it had
    /// answered so far is kept.
    /// </summary>
    public async Task<Run> CancelAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        var result = SortableId.IsValid(id, "run")
            ? await store.CancelAsync(caller.WorkspaceId, id, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken)
            : RunStore.CancelResult.NotFound;
        switch (result)
        {
            case RunStore.CancelResult.NotFound:
                throw ApiProblem.NotFound("run", id);
            case RunStore.CancelResult.AlreadyFinished:
                throw ApiProblem.Conflict(RunFinished, $"Run '{id}' has already finished.");
            case RunStore.CancelResult.Requested:
                live.TryStop(id);
                break;
            default:
                signal.PulseRun(id);
                signal.PulseRunQueue();
                break;
        }
        return await WaitAsync(caller, id, 5_000, cancellationToken);
    }

    /// <summary>Stops the conversation's active run (the running one, else the oldest queued).</summary>
    public async Task<Run> AbortAsync(Caller caller, string conversationId, CancellationToken cancellationToken)
    {
        _ = await conversations.RowAsync(caller, conversationId, cancellationToken);
        var active = await store.ActiveAsync(caller.WorkspaceId, conversationId, cancellationToken)
            ?? throw ApiProblem.Conflict(NoActiveRun, $"Conversation '{conversationId}' has no run queued or running.");
        return await CancelAsync(caller, active.Id, cancellationToken);
    }

    /// <summary>
    /// The run's progress as it happens (text as it streams, each tool call as it starts and ends), ending once the run
    /// has. Progress is seen when this process executes the run; from another replica, only the end is.
    /// </summary>
    public async IAsyncEnumerable<RunEvent> FollowAsync(Caller caller, string id, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var subscription = live.Subscribe(id);
        while (true)
        {
            var changed = signal.RunChanged(id);
            var run = await GetAsync(caller, id, cancellationToken);
            while (subscription.Reader.TryRead(out var progress))
            {
                yield return progress;
            }
            if (run.Status.IsTerminal())
            {
                yield break;
            }
            using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var next = subscription.Reader.WaitToReadAsync(wake.Token).AsTask();
            await Task.WhenAny(next, changed, Task.Delay(SessionService.RecheckInterval, time, cancellationToken));
            await wake.CancelAsync();
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private async Task<RunRow> RowAsync(Caller caller, string id, CancellationToken cancellationToken) =>
        (SortableId.IsValid(id, "run") ? await store.GetAsync(caller.WorkspaceId, id, cancellationToken) : null)
        ?? throw ApiProblem.NotFound("run", id);

    private static long WaitMs(long? waitMs) => (waitMs ?? DefaultWaitMs) is var wait && wait is >= 0 and <= MaxWaitMs
        ? wait
        : throw ApiProblem.Invalid("waitMs", $"waitMs must be between 0 and {MaxWaitMs}.");
}
