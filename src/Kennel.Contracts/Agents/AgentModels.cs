namespace Kennel.Contracts.Agents;

/// <summary>Prices in USD per million tokens.</summary>
public sealed record ModelPricing(decimal Input, decimal Output, decimal CacheRead, decimal CacheWrite);

/// <summary>A model of the workspace's catalogue, and whether a provider for it is configured.</summary>
public sealed record ModelEntry
{
    /// <summary>How an agent names it: <c>provider/model</c>.</summary>
    public required string Id { get; init; }
    public required string Provider { get; init; }
    public required string Model { get; init; }
    public required int ContextWindow { get; init; }
    public required bool Thinking { get; init; }
    public required ModelPricing Prices { get; init; }
    public required bool Available { get; init; }
}

public sealed record ModelList(IReadOnlyList<ModelEntry> Items);

/// <summary>An agent as <c>/v1/agents</c> shows it.</summary>
public sealed record AgentEntry
{
    public required string Name { get; init; }
    public required string Model { get; init; }
    public required string Instructions { get; init; }
    public required string Thinking { get; init; }
    public required IReadOnlyList<string> Tools { get; init; }

    /// <summary>False for <c>main</c> while the config does not name it (it exists anyway, with defaults).</summary>
    public required bool Configured { get; init; }
}

public sealed record AgentList(IReadOnlyList<AgentEntry> Items);
