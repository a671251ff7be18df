using Kennel.Contracts.Channels;

namespace Kennel.ControlPlane.Channels;

/// <summary>A <c>channel_messages</c> row: one message in or out, and for outbound ones, where its sending stands.</summary>
public sealed class ChannelMessageRow
{
    public string Id { get; set; } = "";
    public string WorkspaceId { get; set; } = "";
    public string Channel { get; set; } = "";
    public string Direction { get; set; } = "";
    public string Action { get; set; } = "";
    public string Chat { get; set; } = "";
    public string? Thread { get; set; }
    public string? Sender { get; set; }
    public string Text { get; set; } = "";
    public string? TargetMessage { get; set; }
    public string? Emoji { get; set; }
    public string? PlatformMessageId { get; set; }
    public string? RunId { get; set; }
    public string Status { get; set; } = "";
    public int Attempts { get; set; }
    public long? NextAttemptAt { get; set; }
    public string? LastError { get; set; }
    public int? LastHttpStatus { get; set; }
    public long CreatedAt { get; set; }
    public long? SentAt { get; set; }

    public ChannelMessage ToContract() => new()
    {
        Id = Id,
        Channel = Channel,
        Direction = Direction,
        Action = Action,
        Chat = Chat,
        Thread = Thread,
        Sender = Sender,
        Text = Text,
        TargetMessage = TargetMessage,
        Emoji = Emoji,
        PlatformMessageId = PlatformMessageId,
        RunId = RunId,
        Status = Status,
        Attempts = Attempts,
        Error = LastError,
        NextAttemptAt = Status == ChannelMessageStatus.Pending && NextAttemptAt is { } next ? DateTimeOffset.FromUnixTimeMilliseconds(next) : null,
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
        SentAt = SentAt is { } sent ? DateTimeOffset.FromUnixTimeMilliseconds(sent) : null,
    };
}

/// <summary>A <c>channel_stats</c> row: a channel's counters and last events.</summary>
public sealed class ChannelStatsRow
{
    public string Channel { get; set; } = "";
    public long ReceivedCount { get; set; }
    public long IgnoredCount { get; set; }
    public long SentCount { get; set; }
    public long FailedCount { get; set; }
    public long? LastInboundAt { get; set; }
    public long? LastIgnoredAt { get; set; }
    public string? LastIgnoredSender { get; set; }
    public long? LastSentAt { get; set; }
    public long? LastFailedAt { get; set; }
    public string? LastError { get; set; }
    public long? RegistrationAt { get; set; }
    public string? RegistrationUrl { get; set; }
    public string? RegistrationError { get; set; }
}

public static class ChannelDirections
{
    public const string In = "in";
    public const string Out = "out";
}

/// <summary>The statuses of <c>channel_messages</c>: inbound ones await their answer; outbound ones are the outbox's.</summary>
public static class ChannelMessageStatus
{
    public const string Awaiting = "awaiting";
    public const string Answered = "answered";
    public const string Pending = "pending";
    public const string Sent = "sent";
    public const string Failed = "failed";
}
