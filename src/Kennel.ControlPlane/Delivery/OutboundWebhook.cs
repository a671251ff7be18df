namespace Kennel.ControlPlane.Delivery;

/// <summary>
/// A webhook to send: <paramref name="Body"/> (JSON) POSTed to <paramref name="Url"/>, signed under
/// <paramref name="Secret"/> (<c>whsec_…</c>, see <see cref="WebhookSecret"/>), on behalf of what it reports on
/// (<paramref name="SourceKind"/> such as <c>cron_run</c>, and that thing's id).
/// </summary>
public sealed record OutboundWebhook(string WorkspaceId, string SourceKind, string SourceId, string Url, string Secret, string Body)
{
    // The secret is left out, so a logged or printed message never shows it.
    public override string ToString() => $"OutboundWebhook {{ {WorkspaceId}, {SourceKind} {SourceId} → {Url} }}";
}

/// <summary>Where a webhook's delivery stands: for the history of what it reports on.</summary>
/// <param name="Id">The outbox row's id, which is also the <c>webhook-id</c> the receiver saw.</param>
/// <param name="Status">One of <see cref="OutboundWebhookStatus"/>.</param>
/// <param name="LastError">Why the last attempt failed, if it did: a refusal, a timeout, or the status and the start of the answer.</param>
/// <param name="NextAttemptAt">When the next attempt is due, while it is pending.</param>
public sealed record OutboundWebhookState(
    string Id, string SourceId, string Status, int Attempts, string? LastError, int? LastHttpStatus, DateTimeOffset? DeliveredAt,
    DateTimeOffset? NextAttemptAt);

public static class OutboundWebhookStatus
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
}
