using Microsoft.Extensions.AI;

namespace Kennel.Agents.Providers;

/// <summary>
/// The tokens of one model call, as the ledger records them. <see cref="Input"/> counts the prompt tokens that were
/// neither read from nor written to the provider's cache, so the four counts add up to the prompt and answer once each
/// and each is priced at its own rate.
/// </summary>
public sealed record TokenUsage(long Input, long Output, long CacheRead, long CacheWrite)
{
    public static readonly TokenUsage None = new(0, 0, 0, 0);

    public TokenUsage Add(TokenUsage other) =>
        new(Input + other.Input, Output + other.Output, CacheRead + other.CacheRead, CacheWrite + other.CacheWrite);

    /// <summary>
    /// Reads <c>Microsoft.Extensions.AI</c>'s usage, where the input count includes cached tokens (OpenAI's
    /// <c>prompt_tokens</c>; Anthropic's input, cache read and cache creation summed by its adapter).
    /// </summary>
    public static TokenUsage From(UsageDetails? usage)
    {
        if (usage is null)
        {
            return None;
        }
        var cacheRead = usage.CachedInputTokenCount ?? 0;
        var cacheWrite = Additional(usage, "CacheCreationInputTokens") ?? Additional(usage, "cache_creation_input_tokens") ?? 0;
        var input = Math.Max(0, (usage.InputTokenCount ?? 0) - cacheRead - cacheWrite);
        return new TokenUsage(input, usage.OutputTokenCount ?? 0, cacheRead, cacheWrite);
    }

    private static long? Additional(UsageDetails usage, string key) =>
        usage.AdditionalCounts is { } counts && counts.TryGetValue(key, out var value) ? value : null;
}
