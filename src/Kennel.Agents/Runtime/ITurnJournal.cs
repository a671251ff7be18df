namespace Kennel.Agents.Runtime;

/// <summary>
/// Where the loop commits each step as it completes, and says what it is doing. The control plane writes each commit in
/// one transaction with the model call's ledger row, so a crash loses at most the step in flight.
/// </summary>
public interface ITurnJournal
{
    /// <summary>Commits an assistant step and its model call; returns its tool calls, each with the id reserved for it.</summary>
    Task<IReadOnlyList<PendingToolCall>> CommitAssistantAsync(AssistantStep assistant, ModelCallRecord modelCall, CancellationToken cancellationToken);

    /// <summary>Commits a tool's result (already cut to the limit).</summary>
    Task CommitToolResultAsync(PendingToolCall toolCall, ToolOutput output, bool truncated, CancellationToken cancellationToken);

    /// <summary>
    /// Records a model call that did not complete (failed or stopped); <paramref name="partialText"/> is the answer that
    /// had arrived when it was stopped, kept in the transcript, or null.
    /// </summary>
    Task RecordInterruptedCallAsync(string? partialText, ModelCallRecord modelCall, CancellationToken cancellationToken);

    void TextArrived(string text);

    void ToolStarted(PendingToolCall toolCall);

    void ToolEnded(PendingToolCall toolCall, ToolOutput output);
}
