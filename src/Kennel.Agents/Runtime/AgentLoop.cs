using System.Text;
using Kennel.Agents.Providers;
using Microsoft.Extensions.AI;

namespace Kennel.Agents.Runtime;

/// <summary>
/// Kennel's own agent loop: stream the model's answer, commit it, run the tools it called one by one (committing each
/// result), and call the model again until it answers without tools. It keeps no state between turns: everything it
/// needs is in the <see cref="TurnStart"/> the caller rebuilt from the transcript, so a resumed turn continues where the
/// last commit left it, and a tool call committed once is run once.
/// </summary>
public sealed class AgentLoop(ToolRegistry registry, TimeProvider time)
{
    /// <summary>Ends a tool result cut to the limit, so the model knows it did not see everything.</summary>
    public const string TruncationMarker = "[output truncated:";

    /// <summary>
    /// Runs the turn and returns the final answer. A cancellation (abort, cancel, timeout) or a provider failure ends it
    /// with the exception after the partial answer and any unfinished tool calls are committed as such.
    /// </summary>
    public async Task<string> RunAsync(IChatClient client, string workspaceId, string conversationId, string runId, TurnStart start,
        ITurnJournal journal, CancellationToken cancellationToken)
    {
        var messages = new List<ChatMessage>(start.History);
        var options = new ChatOptions
        {
            Tools = registry.Declarations(start.Tools),
            AdditionalProperties = new() { [ProviderChatClient.ThinkingProperty] = start.Thinking },
        };
        if (options.Tools.Count == 0)
        {
            options.Tools = null;
        }
        var limits = start.Limits;
        var steps = start.ToolStepsTaken;
        var used = start.TokensUsed;
        if (start.Pending.Count > 0)
        {
            messages.Add(await RunToolsAsync(workspaceId, conversationId, runId, start.Pending, start.Tools, limits, journal, cancellationToken));
        }
        if (limits.BudgetSpent(used))
        {
            // Resumed with its budget already spent: not one more model call.
            throw BudgetExceeded(limits, used);
        }
        while (true)
        {
            var (step, call) = await StreamAsync(client, messages, options, journal, cancellationToken);
            used = used.Add(call.Usage);
            if (step.ToolCalls.Count > 0 && (steps >= limits.MaxToolSteps || limits.BudgetSpent(used)))
            {
                // The step's text is kept and its model call recorded; its tool calls are not run, so they are not committed.
                await journal.CommitAssistantAsync(step with { ToolCalls = [] }, call, cancellationToken);
                throw steps >= limits.MaxToolSteps
                    ? new TurnLimitException(TurnLimitException.MaxToolSteps,
                        $"The turn stopped: the model asked for more than {limits.MaxToolSteps} tool steps in one turn (KENNEL_AGENT_MAX_TOOL_STEPS).")
                    : BudgetExceeded(limits, used);
            }
            var pending = await journal.CommitAssistantAsync(step, call, cancellationToken);
            if (pending.Count == 0)
            {
                return step.Text;
            }
            steps++;
            messages.Add(new ChatMessage(ChatRole.Assistant, [.. TextContents(step.Text), .. step.ToolCalls]));
            messages.Add(await RunToolsAsync(workspaceId, conversationId, runId, pending, start.Tools, limits, journal, cancellationToken));
        }
    }

    private static TurnLimitException BudgetExceeded(TurnLimits limits, TokenUsage used) => new(TurnLimitException.TokenBudgetExceeded,
        $"The run used {TurnLimits.Counted(used)} tokens (input, output, cache read and cache write summed), reaching its token budget of " +
        $"{limits.TokenBudget}: the turn stopped before running more tools.");

    private async Task<(AssistantStep Step, ModelCallRecord Call)> StreamAsync(
        IChatClient client, List<ChatMessage> messages, ChatOptions options, ITurnJournal journal, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var updates = new List<ChatResponseUpdate>();
        var text = new StringBuilder();
        try
        {
            await foreach (var update in client.GetStreamingResponseAsync(messages, options, cancellationToken))
            {
                updates.Add(update);
                if (update.Text is { Length: > 0 } delta)
                {
                    text.Append(delta);
                    journal.TextArrived(delta);
                }
            }
        }
        catch (Exception stopped) when (stopped is OperationCanceledException or ProviderException)
        {
            var outcome = stopped is OperationCanceledException ? "cancelled" : "error";
            var usage = TokenUsage.From(updates.ToChatResponse().Usage);
            await journal.RecordInterruptedCallAsync(outcome == "cancelled" && text.Length > 0 ? text.ToString() : null,
                new ModelCallRecord(usage, outcome, time.GetElapsedTime(started)), CancellationToken.None);
            throw;
        }
        var response = updates.ToChatResponse();
        var calls = response.Messages.SelectMany(message => message.Contents).OfType<FunctionCallContent>().ToList();
        return (new AssistantStep(text.ToString(), calls), new ModelCallRecord(TokenUsage.From(response.Usage), "ok", time.GetElapsedTime(started)));
    }

    /// <summary>
    /// Runs each call in turn and commits its result. A call of a tool the agent was not given is answered as if there were
    /// no such tool: the model names the tool, so it must not reach one by guessing its name. If the turn is stopped
    /// meanwhile, the calls left without a result are given one that says so, so the transcript never holds a call the
    /// model would wait on forever.
    /// </summary>
    private async Task<ChatMessage> RunToolsAsync(string workspaceId, string conversationId, string runId, IReadOnlyList<PendingToolCall> calls,
        IReadOnlyList<string> allowed, TurnLimits limits, ITurnJournal journal, CancellationToken cancellationToken)
    {
        var results = new List<AIContent>(calls.Count);
        for (var i = 0; i < calls.Count; i++)
        {
            var call = calls[i];
            journal.ToolStarted(call);
            ToolOutput output;
            try
            {
                output = allowed.Contains(call.Tool) && registry.Find(call.Tool) is { } tool
                    ? await tool.InvokeAsync(new ToolInvocation(workspaceId, conversationId, runId, call.CallId, call.Arguments, call.ReservedId), cancellationToken)
                    : ToolOutput.Error($"There is no tool '{call.Tool}'.");
            }
            catch (OperationCanceledException)
            {
                foreach (var unfinished in calls.Skip(i))
                {
                    await journal.CommitToolResultAsync(unfinished, ToolOutput.Error("The turn was stopped before this tool call finished."), false,
                        CancellationToken.None);
                }
                throw;
            }
            var (text, truncated) = Truncate(output.Text, limits.MaxToolResultChars);
            output = output with { Text = text };
            await journal.CommitToolResultAsync(call, output, truncated, cancellationToken);
            journal.ToolEnded(call, output);
            results.Add(new FunctionResultContent(call.CallId, output.Text));
        }
        return new ChatMessage(ChatRole.Tool, results);
    }

    public static (string Text, bool Truncated) Truncate(string text, int limit)
    {
        if (text.Length <= limit)
        {
            return (text, false);
        }
        return (string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{text.AsSpan(0, limit)}\n{TruncationMarker} {limit} of {text.Length} characters shown]"), true);
    }

    private static IEnumerable<AIContent> TextContents(string text) => text.Length > 0 ? [new TextContent(text)] : [];
}
