namespace Kennel.ControlPlane.Daemons;

/// <summary>
/// Tunables of daemons. <c>KENNEL_WEBHOOK_MAX_BYTES</c> sets <see cref="WebhookMaxBytes"/>, and
/// <c>KENNEL_WEBHOOK_REPLAY_WINDOW_HOURS</c> sets <see cref="WebhookReplayWindow"/>.
/// </summary>
public sealed record DaemonOptions
{
    public const int DefaultWebhookMaxBytes = 1024 * 1024;

    /// <summary>GitHub lets a delivery of the past 3 days be redelivered; remembering deliveries as long covers that.</summary>
    public const int DefaultWebhookReplayWindowHours = 72;

    /// <summary>The largest webhook body accepted; a larger one is refused with 413 and starts nothing.</summary>
    public int WebhookMaxBytes { get; init; } = DefaultWebhookMaxBytes;

    /// <summary>
    /// How long a GitHub-style (<c>hmac-sha256</c>) delivery is remembered, so the same one sent again is refused as a
    /// replay. Zero remembers none of them. Slack requests are remembered for their own 5 minutes whatever this is.
    /// </summary>
    public TimeSpan WebhookReplayWindow { get; init; } = TimeSpan.FromHours(DefaultWebhookReplayWindowHours);
}
