namespace Kennel.ControlPlane.Channels;

/// <summary>
/// The platforms' API base URLs, by kind: the public ones by default, overridable per installation
/// (<c>KENNEL_SLACK_API_URL</c>, <c>KENNEL_TELEGRAM_API_URL</c>, <c>KENNEL_DISCORD_API_URL</c>), for a proxy or for tests
/// that point them at a local server speaking the wire format; and Kennel's own public URL (<c>KENNEL_EXTERNAL_URL</c>),
/// which platforms that are told where to deliver (Telegram's <c>setWebhook</c>) are given. Discord's Gateway URL is not
/// set here: it comes from <c>GET /gateway/bot</c>, as the real API gives it.
/// </summary>
public sealed record ChannelOptions
{
    public const string DefaultSlackApiUrl = "https://slack.com/api/";
    public const string DefaultTelegramApiUrl = "https://api.telegram.org/";

    public const string DefaultDiscordApiUrl = "https://discord.com/api/v10/";

    public Uri SlackApiUrl { get; init; } = new(DefaultSlackApiUrl);

    public Uri TelegramApiUrl { get; init; } = new(DefaultTelegramApiUrl);

    /// <summary>Kennel's public base URL, when the installation set one.</summary>
    public string? ExternalUrl { get; init; }

    public Uri DiscordApiUrl { get; init; } = new(DefaultDiscordApiUrl);

    /// <summary>How long a control plane holds a Discord channel's Gateway connection without renewing it; another takes over after.</summary>
    public TimeSpan GatewayLease { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The base URL of a kind's platform API; null for kinds that send to a URL of the channel's own.</summary>
    public Uri? ApiBase(string kind) => kind switch
    {
        Slack.SlackChannel.KindName => SlackApiUrl,
        Telegram.TelegramChannel.KindName => TelegramApiUrl,
        Discord.DiscordChannel.KindName => DiscordApiUrl,
        _ => null,
    };

    public static ChannelOptions FromEnvironment(Func<string, string?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        return new ChannelOptions
        {
            SlackApiUrl = Read(read, "KENNEL_SLACK_API_URL", DefaultSlackApiUrl),
            TelegramApiUrl = Read(read, "KENNEL_TELEGRAM_API_URL", DefaultTelegramApiUrl),
            DiscordApiUrl = Read(read, "KENNEL_DISCORD_API_URL", DefaultDiscordApiUrl),
        };
    }

    private static Uri Read(Func<string, string?> read, string variable, string fallback) =>
        read(variable) is { } value && !string.IsNullOrWhiteSpace(value) ? BaseUrl(value, variable) : new(fallback);

    private static Uri BaseUrl(string value, string variable) =>
        Uri.TryCreate(value.EndsWith('/') ? value : value + "/", UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? url
            : throw new Hosting.SettingsException($"{variable} must be an absolute http:// or https:// URL, not '{value}'.");
}
