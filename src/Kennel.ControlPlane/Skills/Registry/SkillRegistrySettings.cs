using System.Text.Json.Nodes;

namespace Kennel.ControlPlane.Skills.Registry;

/// <summary>
/// The registries of a workspace config document (<c>skills.registries</c>), by name. The document has passed the schema
/// already (names, URL shape, trust values), so this reads without checking again and skips only what it cannot use;
/// whether Kennel may fetch a URL is decided at fetch time (<see cref="SkillRegistryUrls.Refusal"/>).
/// </summary>
public static class SkillRegistrySettings
{
    public static IReadOnlyList<SkillRegistryConfig> From(JsonObject workspaceConfigDocument)
    {
        ArgumentNullException.ThrowIfNull(workspaceConfigDocument);
        var registries = (workspaceConfigDocument["skills"] as JsonObject)?["registries"] as JsonObject ?? [];
        return [.. registries
            .Select(entry => Registry(entry.Key, entry.Value as JsonObject))
            .OfType<SkillRegistryConfig>()
            .OrderBy(registry => registry.Name, StringComparer.Ordinal)];
    }

    /// <summary>The wire value of a trust level.</summary>
    public static string Wire(SkillTrust trust) => trust == SkillTrust.Trusted ? "trusted" : "untrusted";

    private static SkillRegistryConfig? Registry(string name, JsonObject? registry)
    {
        if (registry?["url"] is not JsonValue url || !url.TryGetValue<string>(out var text) || !Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            return null;
        }
        var trusted = registry["trust"] is JsonValue trust && trust.TryGetValue<string>(out var level) && level == "trusted";
        return new SkillRegistryConfig(name, uri, trusted ? SkillTrust.Trusted : SkillTrust.Untrusted);
    }
}
