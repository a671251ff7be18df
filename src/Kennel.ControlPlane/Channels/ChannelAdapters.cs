using Kennel.ControlPlane.Secrets;

namespace Kennel.ControlPlane.Channels;

/// <summary>The platforms Kennel speaks, by kind.</summary>
public sealed class ChannelAdapters(IEnumerable<IChannelAdapter> adapters)
{
    private readonly Dictionary<string, IChannelAdapter> byKind = adapters.ToDictionary(a => a.Kind, StringComparer.Ordinal);

    public IChannelAdapter? Find(string kind) => byKind.GetValueOrDefault(kind);
}

/// <summary>A channel's secrets, read from the workspace's secrets by field name; a field unset or unreadable is absent.</summary>
public static class ChannelSecrets
{
    public static readonly IReadOnlyList<string> Fields = [Slack.SlackChannel.SigningSecret, Slack.SlackChannel.BotToken, Telegram.TelegramChannel.SecretToken];

    public static async Task<IReadOnlyDictionary<string, string>> ResolveAsync(SecretService secrets, string workspaceId, ChannelConfig channel,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(channel);
        var names = Fields.Where(channel.SecretsSet.Contains).ToDictionary(field => channel.SecretName(field), field => field, StringComparer.Ordinal);
        var resolved = names.Count == 0 ? null : await secrets.ResolveAsync(workspaceId, names.Keys, cancellationToken);
        return names.Where(name => resolved!.Values.ContainsKey(name.Key))
            .ToDictionary(name => name.Value, name => resolved!.Values[name.Key], StringComparer.Ordinal);
    }

    /// <summary>What the channel still lacks before it can work: required secrets not set, a webhook's URL.</summary>
    public static IReadOnlyList<string> Missing(ChannelConfig channel, IChannelAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(adapter);
        return [.. adapter.Required.Where(field => field == "url" ? channel.Url is null : !channel.SecretsSet.Contains(field))];
    }
}
