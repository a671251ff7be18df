using System.Text.Json.Nodes;
using Kennel.Agents.Models;
using Kennel.ControlPlane.Config;

namespace Kennel.ControlPlane.Channels;

/// <summary>
/// One entry of the workspace config's <c>channels</c> section (the schema has checked its shape): the platform, the
/// agent that answers, who may talk to it (nobody until the list is set), and, for a webhook, where answers go. Its
/// secrets live among the workspace's secrets under <c>config:channels.NAME.FIELD</c>.
/// </summary>
public sealed record ChannelConfig(string Name, string Kind, string Agent, IReadOnlyList<string> Allow, string? Url, IReadOnlySet<string> SecretsSet)
{
    public const string Anyone = "*";

    /// <summary>The channels of a config document, in name order.</summary>
    public static IReadOnlyList<ChannelConfig> AllOf(JsonObject document) =>
        document["channels"] is JsonObject channels
            ? [.. channels.Where(entry => entry.Value is JsonObject).Select(entry => Of(entry.Key, (JsonObject)entry.Value!)).OrderBy(c => c.Name, StringComparer.Ordinal)]
            : [];

    public static ChannelConfig? Find(JsonObject document, string name) =>
        (document["channels"] as JsonObject)?[name] is JsonObject entry ? Of(name, entry) : null;

    private static ChannelConfig Of(string name, JsonObject entry) => new(
        name,
        entry["kind"]?.GetValue<string>() ?? "",
        entry["agent"]?.GetValue<string>() ?? AgentDefinition.MainName,
        entry["allow"] is JsonArray allow ? [.. allow.Select(item => item?.GetValue<string>() ?? "")] : [],
        entry["url"]?.GetValue<string>(),
        entry.Where(field => field.Value is JsonObject marker && marker["secretSet"] is not null).Select(field => field.Key).ToHashSet(StringComparer.Ordinal));

    /// <summary>Whether <paramref name="sender"/> in <paramref name="chat"/> may talk to the agent: listed by user or by chat, or anyone is.</summary>
    public bool Allows(string? sender, string chat) =>
        Allow.Contains(Anyone) || Allow.Contains(chat) || (sender is not null && Allow.Contains(sender));

    /// <summary>The workspace secret holding this channel's <paramref name="field"/>.</summary>
    public string SecretName(string field) =>
        ConfigService.SecretName(ConfigPath.Root.Append(PathSegment.Of("channels")).Append(PathSegment.Of(Name)).Append(PathSegment.Of(field)));
}
