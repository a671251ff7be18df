using System.Text.Json;
using Kennel.Agents.Runtime;
using Kennel.Contracts.Conversations;
using Kennel.ControlPlane.Agents;
using Kennel.ControlPlane.Conversations;
using Kennel.ControlPlane.Usage;
using Kennel.Store;
using Microsoft.Extensions.AI;

namespace Kennel.ControlPlane.Runs;

/// <summary>
/// Commits a run's steps: each in one transaction with its model call's ledger row and the token totals, after checking
/// this control plane still holds the run. Progress goes to <see cref="LiveRuns"/> for anyone watching.
/// </summary>
public sealed class TranscriptJournal(Database database, UsageLedger ledger, LiveRuns live, TimeProvider time, TimeSpan leaseTtl,
    RunRow run, string owner, AgentChat chat) : ITurnJournal
{
    /// <summary>The text of the last assistant message this run committed: its answer if it is stopped now.</summary>
    public string? LastText { get; private set; }

    public async Task AppendUserMessageAsync(CancellationToken cancellationToken) =>
        await CommitAsync([new TranscriptRow { RunId = run.Id, Kind = TranscriptKinds.User, Text = run.Message }], null, 0, cancellationToken);

    public async Task<IReadOnlyList<PendingToolCall>> CommitAssistantAsync(AssistantStep assistant, ModelCallRecord modelCall,
        CancellationToken cancellationToken)
    {
        var entries = new List<TranscriptRow>();
        if (assistant.Text.Length > 0 || assistant.ToolCalls.Count == 0)
        {
            entries.Add(new TranscriptRow { RunId = run.Id, Kind = TranscriptKinds.Assistant, Text = assistant.Text });
        }
        var pending = new List<PendingToolCall>();
        foreach (var call in assistant.ToolCalls)
        {
            var arguments = JsonSerializer.SerializeToElement(call.Arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions);
            var reserved = SortableId.New("ses", time);
            entries.Add(new TranscriptRow
            {
                RunId = run.Id,
                Kind = TranscriptKinds.ToolCall,
                CallId = call.CallId,
                Tool = call.Name,
                Arguments = arguments.GetRawText(),
                SessionId = reserved,
            });
            pending.Add(new PendingToolCall(call.CallId, call.Name, arguments, reserved));
        }
        await CommitAsync(entries, modelCall, assistant.ToolCalls.Count > 0 ? 1 : 0, cancellationToken);
        if (assistant.Text.Length > 0)
        {
            LastText = assistant.Text;
        }
        return pending;
    }

    public Task CommitToolResultAsync(PendingToolCall toolCall, ToolOutput output, bool truncated, CancellationToken cancellationToken) =>
        CommitAsync([new TranscriptRow
        {
            RunId = run.Id,
            Kind = TranscriptKinds.ToolResult,
            CallId = toolCall.CallId,
            Tool = toolCall.Tool,
            Text = output.Text,
            SessionId = toolCall.ReservedId.Length > 0 ? toolCall.ReservedId : null,
            IsError = output.IsError ? 1 : 0,
            Truncated = truncated ? 1 : 0,
        }], null, 0, cancellationToken);

    public async Task RecordInterruptedCallAsync(string? partialText, ModelCallRecord modelCall, CancellationToken cancellationToken)
    {
        List<TranscriptRow> entries = partialText is null ? [] : [new TranscriptRow
        {
            RunId = run.Id,
            Kind = TranscriptKinds.Assistant,
            Text = partialText,
            Partial = 1,
        }];
        await CommitAsync(entries, modelCall, 0, cancellationToken);
        if (partialText is not null)
        {
            LastText = partialText;
        }
    }

    public void TextArrived(string text) => live.Publish(new RunEvent { Kind = RunEventKinds.Text, RunId = run.Id, Text = text });

    public void ToolStarted(PendingToolCall toolCall) =>
        live.Publish(new RunEvent { Kind = RunEventKinds.ToolStart, RunId = run.Id, CallId = toolCall.CallId, Tool = toolCall.Tool });

    public void ToolEnded(PendingToolCall toolCall, ToolOutput output) => live.Publish(new RunEvent
    {
        Kind = RunEventKinds.ToolEnd,
        RunId = run.Id,
        CallId = toolCall.CallId,
        Tool = toolCall.Tool,
        IsError = output.IsError,
    });

    private async Task CommitAsync(List<TranscriptRow> entries, ModelCallRecord? modelCall, int toolSteps, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await database.WriteAsync(async (connection, transaction) =>
        {
            await RunStore.HoldAsync(connection, transaction, run.Id, owner, (now + leaseTtl).ToUnixTimeMilliseconds(), cancellationToken);
            if (entries.Count > 0)
            {
                await ConversationStore.AppendAsync(connection, transaction, run.WorkspaceId, run.ConversationId, entries,
                    now.ToUnixTimeMilliseconds(), cancellationToken);
            }
            if (modelCall is not null)
            {
                await ledger.InsertAsync(connection, transaction, new ModelCall(run.WorkspaceId, chat.Agent.Name, chat.Model, modelCall.Usage,
                    modelCall.Outcome, modelCall.Duration, now)
                { ConversationId = run.ConversationId, RunId = run.Id }, cancellationToken);
                await ConversationStore.AddUsageAsync(connection, transaction, run.WorkspaceId, run.ConversationId, modelCall.Usage, cancellationToken);
            }
            if (modelCall is not null || toolSteps > 0)
            {
                await RunStore.AddStepAsync(connection, transaction, run.Id, modelCall?.Usage ?? Kennel.Agents.Providers.TokenUsage.None, toolSteps,
                    cancellationToken);
            }
        }, cancellationToken);
    }
}
