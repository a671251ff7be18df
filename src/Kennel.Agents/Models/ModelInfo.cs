using Kennel.Agents.Providers;

namespace Kennel.Agents.Models;

/// <summary>Prices in USD per million tokens, each kind of token at its own rate.</summary>
public sealed record ModelPrices(decimal Input, decimal Output, decimal CacheRead, decimal CacheWrite)
{
    public static readonly ModelPrices Unknown = new(0, 0, 0, 0);

    /// <summary>What <paramref name="usage"/> costs at these prices, in USD.</summary>
    public decimal Cost(TokenUsage usage) =>
        ((usage.Input * Input) + (usage.Output * Output) + (usage.CacheRead * CacheRead) + (usage.CacheWrite * CacheWrite)) / 1_000_000m;
}

/// <summary>
/// A model of the catalogue: <c>{Provider}/{Id}</c> is how an agent names it. A model the catalogue does not know can still
/// be used; it is treated as <see cref="Unlisted"/>, with no thinking and no price, so its cost shows as zero rather than
/// as a guess.
/// </summary>
public sealed record ModelInfo(string Provider, string Id, int ContextWindow, bool SupportsThinking, ModelPrices Prices)
{
    public string Ref => $"{Provider}/{Id}";

    public static ModelInfo Unlisted(string provider, string id) => new(provider, id, 0, false, ModelPrices.Unknown);
}
