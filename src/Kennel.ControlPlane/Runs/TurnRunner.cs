using Kennel.Agents.Providers;
using Kennel.Agents.Runtime;
using Kennel.Contracts.Conversations;
using Kennel.ControlPlane.Agents;
using Kennel.ControlPlane.Conversations;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Sessions;
using Kennel.ControlPlane.Skills;
using Kennel.ControlPlane.Usage;
using Kennel.Store;

namespace Kennel.ControlPlane.Runs;

/// <summary>
/// Executes one claimed run: rebuilds the turn from the transcript (so a run resumed after a crash continues from its
/// last committed step), runs <see cref="AgentLoop"/> under the turn's limits, and says how it ended.
/// </summary>
public sealed class TurnRunner(Database database, ConversationStore conversations, AgentService agents, AgentLoop loop, UsageLedger ledger,
    LiveRuns live, SessionService sessions, SkillService skills, ControlPlaneOptions options, TurnLimits limits, TimeProvider time)
{
    public const string TurnTimeout = "turn_timeout";
    public const string Cancelled = "cancelled";

    /// <summary>
    /// Runs the turn. <paramref name="stop"/> fires on an abort or cancel; <paramref name="shutdown"/> when this process
    /// stops, which leaves the run for another claim (the exception propagates).
    /// </summary>
    public async Task<RunOutcome> ExecuteAsync(RunRow run, string owner, CancellationToken stop, CancellationToken shutdown)
    {
        var conversation = await conversations.GetAsync(run.WorkspaceId, run.ConversationId, shutdown);
        if (conversation is null)
        {
            return Failed(ErrorCodes.NotFound, $"The conversation {run.ConversationId} no longer exists.");
        }
        AgentChat chat;
        try
        {
            chat = await agents.ChatForAsync(run.WorkspaceId, conversation.Agent, shutdown);
        }
        catch (ProviderException failure)
        {
            return Failed(failure.Code, failure.Message);
        }
        catch (ApiProblem missing)
        {
            return Failed(missing.Code, missing.Message);
        }
        var journal = new TranscriptJournal(database, ledger, live, time, options.LeaseTtl, run, owner, chat);
        var rows = await conversations.ReadTranscriptAsync(run.WorkspaceId, run.ConversationId, shutdown);
        if (!rows.Any(row => row.RunId == run.Id && row.Kind == TranscriptKinds.User))
        {
            await journal.AppendUserMessageAsync(shutdown);
            rows = await conversations.ReadTranscriptAsync(run.WorkspaceId, run.ConversationId, shutdown);
        }
        // The prompt lists the agent's eligible skills by name and one line; skill_read gives the rest.
        var skillSet = await skills.ForPromptAsync(run.WorkspaceId, chat.Agent, shutdown);
        var (history, pending) = TranscriptHistory.Build(SkillPrompt.Instructions(chat.Agent, skillSet), rows, run.Id);
        var thinking = ThinkingLevels.TryParse(conversation.Thinking, out var chosen) ? chosen : chat.Agent.Thinking;
        // A run's own limits (a cron job's) replace the installation's timeout and add a token budget.
        var runLimits = limits with
        {
            Timeout = run.TimeoutMs is { } ownTimeout ? TimeSpan.FromMilliseconds(ownTimeout) : limits.Timeout,
            TokenBudget = run.TokenBudget,
        };
        var start = new TurnStart(chat.Model, history, pending, run.ToolSteps, run.Used, thinking, SkillPrompt.Tools(chat.Agent, skillSet), runLimits);

        // The turn's clock started when the run first did, so a resumed run keeps its deadline.
        var elapsed = time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(run.StartedAt ?? run.CreatedAt);
        using var timeout = new CancellationTokenSource(Max(runLimits.Timeout - elapsed, TimeSpan.Zero), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, shutdown, timeout.Token);
        try
        {
            var answer = await loop.RunAsync(chat.Client, run.WorkspaceId, run.ConversationId, run.Id, start, journal, linked.Token);
            return new RunOutcome(RunStatus.Succeeded, answer, null);
        }
        catch (OperationCanceledException) when (!shutdown.IsCancellationRequested && (stop.IsCancellationRequested || timeout.IsCancellationRequested))
        {
            await CancelSessionsAsync(run);
            return stop.IsCancellationRequested
                ? new RunOutcome(RunStatus.Cancelled, journal.LastText, new RunError(Cancelled, "The run was stopped (abort or cancel)."))
                : new RunOutcome(RunStatus.TimedOut, journal.LastText, new RunError(TurnTimeout, TimedOut(run, runLimits.Timeout)));
        }
        catch (ProviderException failure)
        {
            return new RunOutcome(RunStatus.Failed, journal.LastText, new RunError(failure.Code, failure.Message));
        }
        catch (TurnLimitException limit)
        {
            return new RunOutcome(RunStatus.Failed, journal.LastText, new RunError(limit.Code, limit.Message));
        }
    }

    /// <summary>Every sandbox session the run's tool calls started that is still live is cancelled, wherever it runs.</summary>
    private async Task CancelSessionsAsync(RunRow run)
    {
        var rows = await conversations.ReadTranscriptAsync(run.WorkspaceId, run.ConversationId, CancellationToken.None);
        foreach (var id in rows.Where(row => row.RunId == run.Id && row.Kind == TranscriptKinds.ToolCall && row.SessionId is not null)
            .Select(row => row.SessionId!))
        {
            await sessions.CancelQuietlyAsync(run.WorkspaceId, id);
        }
    }

    private static string TimedOut(RunRow run, TimeSpan timeout) => run.TimeoutMs is null
        ? $"The turn took longer than its limit of {timeout.TotalSeconds:0} s (KENNEL_AGENT_TURN_TIMEOUT_SECONDS)."
        : string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"The turn took longer than the run's own timeout of {timeout.TotalSeconds:0.###} s, set when it was queued.");

    private static RunOutcome Failed(string code, string message) => new(RunStatus.Failed, null, new RunError(code, message));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
