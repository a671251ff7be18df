namespace Kennel.ControlPlane.Daemons;

/// <summary>Tunables of daemons. <c>KENNEL_WEBHOOK_MAX_BYTES</c> sets <see cref="WebhookMaxBytes"/>.</summary>
public sealed record DaemonOptions
{
    public const int DefaultWebhookMaxBytes = 1024 * 1024;

    /// <summary>The largest webhook body accepted; a larger one is refused with 413 and starts nothing.</summary>
    public int WebhookMaxBytes { get; init; } = DefaultWebhookMaxBytes;
}
