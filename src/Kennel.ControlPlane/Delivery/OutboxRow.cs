namespace Kennel.ControlPlane.Delivery;

/// <summary>A <c>webhook_outbox</c> row as the sender reads it; its secret still encrypted.</summary>
public sealed class OutboxRow
{
    public string Id { get; set; } = "";
    public string WorkspaceId { get; set; } = "";
    public string SourceKind { get; set; } = "";
    public string SourceId { get; set; } = "";
    public string Url { get; set; } = "";
    public string Secret { get; set; } = "";
    public string Body { get; set; } = "";
    public string Status { get; set; } = "";
    public int Attempts { get; set; }
    public long NextAttemptAt { get; set; }
    public string? LastError { get; set; }
    public int? LastHttpStatus { get; set; }
    public long CreatedAt { get; set; }
    public long? DeliveredAt { get; set; }

    public OutboundWebhookState ToState() => new(Id, SourceId, Status, Attempts, LastError, LastHttpStatus,
        DeliveredAt is { } delivered ? DateTimeOffset.FromUnixTimeMilliseconds(delivered) : null,
        Status == OutboundWebhookStatus.Pending ? DateTimeOffset.FromUnixTimeMilliseconds(NextAttemptAt) : null);
}
