namespace Kennel.ControlPlane.Channels;

/// <summary>
/// The platforms' API base URLs, by kind: the public ones by default, overridable per installation
/// (<c>KENNEL_SLACK_API_URL</c>, <c>KENNEL_DISCORD_API_URL</c>), for a proxy or for tests that point them at a local
/// server speaking the wire format. Discord's Gateway URL is not set here: it comes from <c>GET /gateway/bot</c>, as the
/// real API gives it.
/// </summary>
public sealed record ChannelOptions
{
    public const string DefaultSlackApiUrl = "https://slack.com/api/";

    public const string DefaultDiscordApiUrl = "https://discord.com/api/v10/";

    public Uri SlackApiUrl { get; init; } = new(DefaultSlackApiUrl);

    public Uri DiscordApiUrl { get; init; } = new(DefaultDiscordApiUrl);

    /// <summary>How long a control plane holds a Discord channel's Gateway connection without renewing it; another takes over after.</summary>
    public TimeSpan GatewayLease { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The base URL of a kind's platform API; null for kinds that send to a URL of the channel's own.</summary>
    public Uri? ApiBase(string kind) => kind switch
    {
        Slack.SlackChannel.KindName => SlackApiUrl,
        Discord.DiscordChannel.KindName => DiscordApiUrl,
        _ => null,
    };

    public static ChannelOptions FromEnvironment(Func<string, string?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        return new ChannelOptions
        {
            SlackApiUrl = BaseUrl(read, "KENNEL_SLACK_API_URL", DefaultSlackApiUrl),
            DiscordApiUrl = BaseUrl(read, "KENNEL_DISCORD_API_URL", DefaultDiscordApiUrl),
        };
    }

    private static Uri BaseUrl(Func<string, string?> read, string variable, string fallback) =>
        read(variable) is { } value && !string.IsNullOrWhiteSpace(value) ? BaseUrl(value, variable) : new(fallback);

    private static Uri BaseUrl(string value, string variable) =>
        Uri.TryCreate(value.EndsWith('/') ? value : value + "/", UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? url
            : throw new Hosting.SettingsException($"{variable} must be an absolute http:// or https:// URL, not '{value}'.");
}
