namespace Kennel.Agents.Models;

/// <summary>
/// The models Kennel knows without configuration, with the list prices of their providers (USD per million tokens:
/// input, output, cache read, cache write) as of 2026-12. A workspace's config overrides an entry or adds others.
/// OpenAI bills no cache writes; Anthropic bills five-minute cache writes at 1.25× input and reads at 0.1×.
/// </summary>
public static class ShippedModels
{
    public static readonly IReadOnlyList<ModelInfo> All =
    [
        new("openai", "gpt-5", 400_000, true, new(1.25m, 10m, 0.125m, 0m)),
        new("openai", "gpt-5-mini", 400_000, true, new(0.25m, 2m, 0.025m, 0m)),
        new("openai", "gpt-5-nano", 400_000, true, new(0.05m, 0.4m, 0.005m, 0m)),
        new("openai", "gpt-4.1", 1_047_576, false, new(2m, 8m, 0.5m, 0m)),
        new("openai", "gpt-4.1-mini", 1_047_576, false, new(0.4m, 1.6m, 0.1m, 0m)),
        new("openai", "gpt-4o", 128_000, false, new(2.5m, 10m, 1.25m, 0m)),
        new("openai", "gpt-4o-mini", 128_000, false, new(0.15m, 0.6m, 0.075m, 0m)),
        new("openai", "o3", 200_000, true, new(2m, 8m, 0.5m, 0m)),
        new("openai", "o4-mini", 200_000, true, new(1.1m, 4.4m, 0.275m, 0m)),
        new("anthropic", "claude-opus-4-5", 200_000, true, new(5m, 25m, 0.5m, 6.25m)),
        new("anthropic", "claude-sonnet-4-5", 200_000, true, new(3m, 15m, 0.3m, 3.75m)),
        new("anthropic", "claude-haiku-4-5", 200_000, true, new(1m, 5m, 0.1m, 1.25m)),
        new("anthropic", "claude-opus-4-1", 200_000, true, new(15m, 75m, 1.5m, 18.75m)),
        new("anthropic", "claude-sonnet-4-0", 200_000, true, new(3m, 15m, 0.3m, 3.75m)),
        new("anthropic", "claude-3-5-haiku-latest", 200_000, false, new(0.8m, 4m, 0.08m, 1m)),
    ];
}
