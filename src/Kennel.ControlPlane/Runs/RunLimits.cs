using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Runs;

/// <summary>
/// The limits a run may carry of its own (<see cref="RunRow.TimeoutMs"/>, <see cref="RunRow.TokenBudget"/>), set by
/// whoever queues it: a timeout that replaces the installation's turn timeout, and a budget of tokens. An edge that
/// takes them from people checks them here, naming its own field; the store refuses a row outside the same bounds.
/// </summary>
public static class RunLimits
{
    public const long MinTimeoutMs = 1_000;
    public const long MaxTimeoutMs = 24 * 60 * 60 * 1_000;
    public const long MaxTokenBudget = 1_000_000_000;

    /// <summary>A run's timeout in milliseconds, checked (1 s to 24 h); null stays null (the installation's timeout).</summary>
    public static long? TimeoutMs(long? milliseconds, string field) => milliseconds is null or (>= MinTimeoutMs and <= MaxTimeoutMs)
        ? milliseconds
        : throw ApiProblem.Invalid(field, $"{field} must be between 1 s and 24 h.");

    /// <summary>A run's token budget, checked (1 to a billion); null stays null (no budget).</summary>
    public static long? TokenBudget(long? tokens, string field) => tokens is null or (>= 1 and <= MaxTokenBudget)
        ? tokens
        : throw ApiProblem.Invalid(field, $"{field} must be between 1 and {MaxTokenBudget} tokens.");

    /// <summary>Refuses a row whose limits no edge should have let through: a caller's bug, not a person's input.</summary>
    internal static void Require(RunRow row)
    {
        if (row.TimeoutMs is < MinTimeoutMs or > MaxTimeoutMs)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row.TimeoutMs, $"A run's TimeoutMs must be between {MinTimeoutMs} and {MaxTimeoutMs}.");
        }
        if (row.TokenBudget is < 1 or > MaxTokenBudget)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row.TokenBudget, $"A run's TokenBudget must be between 1 and {MaxTokenBudget}.");
        }
    }
}
