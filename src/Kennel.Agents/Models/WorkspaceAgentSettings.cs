using System.Text.Json.Nodes;
using Kennel.Agents.Providers;

namespace Kennel.Agents.Models;

/// <summary>A provider named in a workspace's config; its key, when set, is the secret <see cref="KeySecret"/>.</summary>
public sealed record ConfiguredProvider(string Name, ProviderKind Kind, Uri? BaseUrl, string? KeySecret);

/// <summary>A configured agent, with what the config leaves out still null (the directory fills in <c>main</c>'s defaults).</summary>
public sealed record ConfiguredAgent(string Name, ModelRef? Model, string? Instructions, ThinkingLevel? Thinking, IReadOnlyList<string>? Tools)
{
    /// <summary>The skills the config gives the agent; null when it names none (the agent then has every installed skill).</summary>
    public IReadOnlyList<string>? Skills { get; init; }
}

/// <summary>
/// The agent runtime's view of a workspace config document: its providers, model entries and agents. The document has
/// passed the schema already, so this reads without checking it again and skips only what it cannot use.
/// </summary>
public sealed record WorkspaceAgentSettings(
    IReadOnlyList<ConfiguredProvider> Providers, IReadOnlyList<ModelInfo> Models, IReadOnlyList<ConfiguredAgent> Agents)
{
    public static WorkspaceAgentSettings Empty { get; } = new([], [], []);

    /// <summary>Reads a document; <paramref name="keySecret"/> names the secret that holds a provider's key (the config's naming).</summary>
    public static WorkspaceAgentSettings From(JsonObject document, Func<string, string> keySecret) => new(
        [.. Entries(document, "providers").Select(entry => Provider(entry.Key, entry.Value, keySecret)).OfType<ConfiguredProvider>()],
        [.. Entries(document, "models").Select(entry => Model(entry.Key, entry.Value)).OfType<ModelInfo>()],
        [.. Entries(document, "agents").Select(entry => Agent(entry.Key, entry.Value))]);

    private static IEnumerable<KeyValuePair<string, JsonObject>> Entries(JsonObject document, string section) =>
        (document[section] as JsonObject ?? []).Where(entry => entry.Value is JsonObject)
            .Select(entry => KeyValuePair.Create(entry.Key, (JsonObject)entry.Value!));

    private static ConfiguredProvider? Provider(string name, JsonObject provider, Func<string, string> keySecret)
    {
        if (!ProviderKinds.TryParse(provider["kind"]?.GetValue<string>(), out var kind))
        {
            return null;
        }
        var baseUrl = provider["baseUrl"]?.GetValue<string>() is { } url ? new Uri(url) : null;
        var hasKey = provider["apiKey"] is JsonObject marker && marker["secretSet"]?.GetValue<bool>() == true;
        return new ConfiguredProvider(name, kind, baseUrl, hasKey ? keySecret(name) : null);
    }

    private static ModelInfo? Model(string id, JsonObject model)
    {
        if (!ModelRef.TryParse(id, out var reference))
        {
            return null;
        }
        var shipped = ModelCatalogue.Shipped.Find(reference);
        var prices = model["prices"] as JsonObject;
        return shipped with
        {
            ContextWindow = model["contextWindow"]?.GetValue<int>() ?? shipped.ContextWindow,
            SupportsThinking = model["thinking"]?.GetValue<bool>() ?? shipped.SupportsThinking,
            Prices = new ModelPrices(
                Price(prices, "input") ?? shipped.Prices.Input,
                Price(prices, "output") ?? shipped.Prices.Output,
                Price(prices, "cacheRead") ?? shipped.Prices.CacheRead,
                Price(prices, "cacheWrite") ?? shipped.Prices.CacheWrite),
        };
    }

    private static decimal? Price(JsonObject? prices, string name) => prices?[name]?.GetValue<decimal>();

    private static ConfiguredAgent Agent(string name, JsonObject agent) => new(
        name,
        ModelRef.TryParse(agent["model"]?.GetValue<string>(), out var model) ? model : null,
        agent["instructions"]?.GetValue<string>(),
        ThinkingLevels.TryParse(agent["thinking"]?.GetValue<string>(), out var thinking) ? thinking : null,
        agent["tools"] is JsonArray tools ? [.. tools.Select(tool => tool!.GetValue<string>())] : null)
    {
        Skills = agent["skills"] is JsonArray skills ? [.. skills.Select(skill => skill!.GetValue<string>())] : null,
    };
}
