namespace Kennel.Agents.Models;

/// <summary>The shipped models with a workspace's own entries laid over them (same <c>provider/model</c> replaces).</summary>
public sealed class ModelCatalogue
{
    private readonly Dictionary<string, ModelInfo> byRef;

    public ModelCatalogue(IEnumerable<ModelInfo> overrides)
    {
        byRef = ShippedModels.All.ToDictionary(model => model.Ref, StringComparer.Ordinal);
        foreach (var model in overrides)
        {
            byRef[model.Ref] = model;
        }
    }

    public static ModelCatalogue Shipped { get; } = new([]);

    public IReadOnlyList<ModelInfo> All => [.. byRef.Values.OrderBy(model => model.Provider, StringComparer.Ordinal).ThenBy(model => model.Id, StringComparer.Ordinal)];

    public ModelInfo Find(ModelRef model) => byRef.TryGetValue(model.ToString(), out var info) ? info : ModelInfo.Unlisted(model.Provider, model.Model);
}
