namespace Kennel.Contracts.Usage;

/// <summary>Tokens by kind and what they cost, summed over model calls.</summary>
public sealed record UsageTotals
{
    public required long Calls { get; init; }
    public required long InputTokens { get; init; }
    public required long OutputTokens { get; init; }
    public required long CacheReadTokens { get; init; }
    public required long CacheWriteTokens { get; init; }

    /// <summary>USD, at each call's prices when it was made.</summary>
    public required decimal CostUsd { get; init; }
}

/// <summary>One group of a usage report: a UTC day (<c>2026-12-07</c>), a model (<c>provider/model</c>) or an agent.</summary>
public sealed record UsageGroup
{
    public required string Key { get; init; }
    public required UsageTotals Usage { get; init; }
}

/// <summary>
/// <c>GET /v1/usage</c> and <c>usage_cost</c>: the model calls of [from, to), grouped by day, model or agent, from the
/// usage ledger (so a deleted conversation's cost still counts).
/// </summary>
public sealed record UsageReport
{
    public required DateTimeOffset From { get; init; }
    public required DateTimeOffset To { get; init; }
    public required string GroupBy { get; init; }
    public required UsageTotals Total { get; init; }
    public required IReadOnlyList<UsageGroup> Groups { get; init; }
}

/// <summary>One conversation's usage in a range.</summary>
public sealed record ConversationUsage
{
    public required string ConversationId { get; init; }
    public required DateTimeOffset FirstCallAt { get; init; }
    public required DateTimeOffset LastCallAt { get; init; }
    public required UsageTotals Usage { get; init; }
}

/// <summary>
/// <c>GET /v1/usage/conversations</c> and <c>sessions_usage</c>: token usage per conversation in [from, to), costliest
/// first, at most <c>limit</c> of them; <see cref="Total"/> covers every conversation of the range.
/// </summary>
public sealed record ConversationUsageReport
{
    public required DateTimeOffset From { get; init; }
    public required DateTimeOffset To { get; init; }
    public required UsageTotals Total { get; init; }
    public required IReadOnlyList<ConversationUsage> Conversations { get; init; }

    /// <summary>True when more conversations had calls in the range than the list holds.</summary>
    public required bool More { get; init; }
}
