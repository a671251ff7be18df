namespace Kennel.ControlPlane.Channels;

/// <summary>
/// The platforms' API base URLs, by kind: the public ones by default, overridable per installation
/// (<c>KENNEL_SLACK_API_URL</c>), for a proxy or for tests that point them at a local server speaking the wire format.
/// </summary>
public sealed record ChannelOptions
{
    public const string DefaultSlackApiUrl = "https://slack.com/api/";

    public Uri SlackApiUrl { get; init; } = new(DefaultSlackApiUrl);

    /// <summary>The base URL of a kind's platform API; null for kinds that send to a URL of the channel's own.</summary>
    public Uri? ApiBase(string kind) => kind == Slack.SlackChannel.KindName ? SlackApiUrl : null;

    public static ChannelOptions FromEnvironment(Func<string, string?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        var slack = read("KENNEL_SLACK_API_URL");
        return new ChannelOptions { SlackApiUrl = string.IsNullOrWhiteSpace(slack) ? new(DefaultSlackApiUrl) : BaseUrl(slack, "KENNEL_SLACK_API_URL") };
    }

    private static Uri BaseUrl(string value, string variable) =>
        Uri.TryCreate(value.EndsWith('/') ? value : value + "/", UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? url
            : throw new Hosting.SettingsException($"{variable} must be an absolute http:// or https:// URL, not '{value}'.");
}
