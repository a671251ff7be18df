using Kennel.Agents.Models;
using Kennel.Agents.Providers;

namespace Kennel.ControlPlane.Usage;

/// <summary>The outcome of a model call, as the ledger records it.</summary>
public static class ModelCallOutcome
{
    public const string Ok = "ok";
    public const string Error = "error";
    public const string Cancelled = "cancelled";
}

/// <summary>
/// One model call for the ledger: who made it (workspace, agent, and the conversation and run when there is one), the
/// model, its tokens, and what they cost at the model's prices at the time of the call.
/// </summary>
public sealed record ModelCall(string WorkspaceId, string Agent, ModelInfo Model, TokenUsage Usage, string Outcome, TimeSpan Duration,
    DateTimeOffset At)
{
    public string? ConversationId { get; init; }
    public string? RunId { get; init; }

    /// <summary>The cost in nano-USD, rounded to the nearest: what the ledger sums.</summary>
    public long CostNanoUsd => (long)Math.Round(Model.Prices.Cost(Usage) * 1_000_000_000m, MidpointRounding.AwayFromZero);
}
