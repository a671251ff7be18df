using System.Text.Json;
using Kennel.Agents.Models;
using Kennel.Agents.Providers;
using Microsoft.Extensions.AI;

namespace Kennel.Agents.Runtime;

/// <summary>The bounds of one turn. Each has its own clear error when it is hit.</summary>
public sealed record TurnLimits
{
    /// <summary>How long a turn may take from its start, tools included; then it ends <c>timed_out</c>.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How many times the model may call tools in one turn; one more fails the turn (<c>max_tool_steps</c>).</summary>
    public int MaxToolSteps { get; init; } = 16;

    /// <summary>The longest tool output fed back to the model; more is cut, with a marker that says so.</summary>
    public int MaxToolResultChars { get; init; } = 16_000;

    /// <summary>
    /// The most tokens the run may use, or null for no budget. A token is counted once however it was billed: the four
    /// counts of <see cref="TokenUsage"/> summed (input, output, cache read, cache write), which is each call's prompt and
    /// answer once each, over every model call of the run, those before a resume included. The budget is checked after
    /// each model call is committed: a step that asks for tools once the run has used its budget stops the turn
    /// (<c>token_budget_exceeded</c>) without running them, while an answer that ends the turn is kept, since its tokens
    /// are spent either way. So a run can end past its budget by at most its last model call.
    /// </summary>
    public long? TokenBudget { get; init; }

    /// <summary>The tokens that count against <see cref="TokenBudget"/>: the four counts of <paramref name="usage"/> summed.</summary>
    public static long Counted(TokenUsage usage) => usage.Input + usage.Output + usage.CacheRead + usage.CacheWrite;

    /// <summary>Whether <paramref name="used"/> leaves nothing of <see cref="TokenBudget"/>.</summary>
    public bool BudgetSpent(TokenUsage used) => TokenBudget is { } budget && Counted(used) >= budget;
}

/// <summary>A tool call the model made, with the id reserved for it when the call was committed.</summary>
public sealed record PendingToolCall(string CallId, string Tool, JsonElement Arguments, string ReservedId);

/// <summary>
/// Where a turn starts: the conversation so far (the user's message included), tool calls committed earlier in this
/// turn that have no result yet (after a crash), how many tool steps the turn has already taken, and the tokens of the
/// model calls it committed before this start (counted against <see cref="TurnLimits.TokenBudget"/>).
/// </summary>
public sealed record TurnStart(
    ModelInfo Model, IReadOnlyList<ChatMessage> History, IReadOnlyList<PendingToolCall> Pending, int ToolStepsTaken, TokenUsage TokensUsed,
    ThinkingLevel Thinking, IReadOnlyList<string> Tools, TurnLimits Limits);

/// <summary>A model call as the usage ledger records it.</summary>
public sealed record ModelCallRecord(TokenUsage Usage, string Outcome, TimeSpan Duration);

/// <summary>A completed assistant step: its text and the tool calls it made.</summary>
public sealed record AssistantStep(string Text, IReadOnlyList<FunctionCallContent> ToolCalls);

/// <summary>A turn the model could not finish within <see cref="TurnLimits"/>; <see cref="Code"/> is what the run records.</summary>
public sealed class TurnLimitException : Exception
{
    public const string MaxToolSteps = "max_tool_steps";
    public const string TokenBudgetExceeded = "token_budget_exceeded";

    public TurnLimitException(string code, string message, Exception? innerException = null)
        : base(message, innerException) => Code = code;

    public TurnLimitException()
        : this(MaxToolSteps, "The turn hit a limit.")
    {
    }

    public TurnLimitException(string message)
        : this(MaxToolSteps, message)
    {
    }

    public TurnLimitException(string message, Exception innerException)
        : this(MaxToolSteps, message, innerException)
    {
    }

    public string Code { get; }
}
