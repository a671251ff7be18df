namespace Kennel.Contracts.Channels;

/// <summary>
/// One channel as <c>channels_status</c> shows it: what is configured, and what Kennel has seen. <see cref="Health"/> is
/// read from evidence only: <c>not_configured</c> (a secret or the URL is missing), <c>no_traffic</c> (configured,
/// but nothing received or sent yet: nothing proves it works), <c>failing</c> (the last send failed after the last
/// success), or <c>ok</c> (the last send succeeded, or messages were received and no send has failed since).
/// </summary>
public sealed record ChannelStatus
{
    public required string Name { get; init; }
    public required string Kind { get; init; }
    public required string Agent { get; init; }
    public required string Health { get; init; }

    /// <summary>Why <see cref="Health"/> says what it says, in one sentence.</summary>
    public required string Evidence { get; init; }

    /// <summary>The settings still missing before the channel can work (secrets, the URL).</summary>
    public IReadOnlyList<string> Missing { get; init; } = [];

    /// <summary>How many users or chats may talk to the agent; 0 is nobody. A <c>*</c> entry counts as one and lets anyone.</summary>
    public int Allowed { get; init; }

    /// <summary>The URL the platform sends its events to, relative to Kennel's base URL.</summary>
    public required string InboundPath { get; init; }
    public long Received { get; init; }
    public DateTimeOffset? LastInboundAt { get; init; }
    public long Ignored { get; init; }
    public DateTimeOffset? LastIgnoredAt { get; init; }
    public string? LastIgnoredSender { get; init; }
    public long Sent { get; init; }
    public DateTimeOffset? LastSentAt { get; init; }
    public long Failed { get; init; }
    public DateTimeOffset? LastFailedAt { get; init; }
    public string? LastError { get; init; }

    /// <summary>Sends queued or waiting for a retry now.</summary>
    public long Pending { get; init; }

    /// <summary>With <c>probe</c>: what the platform answered just now, when asked whether the credentials work.</summary>
    public ChannelProbe? Probe { get; init; }

    /// <summary>For a platform Kennel registers its inbound URL with (Telegram): the last registration, or null when never tried.</summary>
    public ChannelRegistration? Registration { get; init; }

    /// <summary>For a channel that holds a connection to its platform (Discord's Gateway): that connection, as last recorded.</summary>
    public ChannelGateway? Gateway { get; init; }
}

/// <summary>
/// A registration of the channel's inbound URL with its platform (Telegram's <c>setWebhook</c>): <see cref="Ok"/> only
/// when the platform accepted it, <see cref="Detail"/> its answer (or error) in one line.
/// </summary>
public sealed record ChannelRegistration(bool Ok, string Url, DateTimeOffset At, string Detail);

/// <summary>Registers a channel's inbound URL; <see cref="Url"/> is Kennel's public base URL, when KENNEL_EXTERNAL_URL is not it.</summary>
public sealed record RegisterChannelRequest
{
    public string? Url { get; init; }
}

/// <summary>
/// A platform connection as the control plane holding it last recorded it. <see cref="State"/> is <c>connected</c> only
/// after the platform said so (Discord's READY or RESUMED) and while a control plane holds the connection;
/// <c>connecting</c>, <c>reconnecting</c> (with the error that ended the last one), <c>stopped</c> (a close code only a
/// person can fix, such as a wrong token: no reconnect until the config changes), or <c>not_held</c> (no control plane
/// holds it now).
/// </summary>
public sealed record ChannelGateway
{
    public required string State { get; init; }
    public DateTimeOffset? ConnectedSince { get; init; }
    public DateTimeOffset? LastHeartbeatAckAt { get; init; }
    public DateTimeOffset? LastEventAt { get; init; }
    public string? Error { get; init; }
    public DateTimeOffset? ErrorAt { get; init; }
}

/// <summary>The platform's own answer to a probe (Slack's <c>auth.test</c>): <see cref="Ok"/> only when it said so.</summary>
public sealed record ChannelProbe(bool Ok, string Detail);

public sealed record ChannelStatusList(IReadOnlyList<ChannelStatus> Channels);

/// <summary>
/// An act in a channel: <c>send</c> <see cref="Text"/> to <see cref="Chat"/> (in <see cref="Thread"/>), <c>react</c> to
/// <see cref="Message"/> with <see cref="Emoji"/>, or <c>pin</c> <see cref="Message"/>. Ids are the platform's own.
/// </summary>
public sealed record ChannelActionRequest
{
    public string? Channel { get; init; }
    public string? Action { get; init; }
    public string? Chat { get; init; }
    public string? Thread { get; init; }
    public string? Message { get; init; }
    public string? Text { get; init; }
    public string? Emoji { get; init; }
}

/// <summary>
/// What became of an act: <c>sent</c> with the platform's message id, <c>failed</c> with the platform's error, or
/// <c>pending</c> while it waits for a retry (<see cref="Error"/> says why); channels_history follows it.
/// </summary>
public sealed record ChannelActionResult
{
    public required string Id { get; init; }
    public required string Status { get; init; }
    public string? PlatformMessageId { get; init; }
    public string? Error { get; init; }
    public int Attempts { get; init; }
}

/// <summary>One message in or out of a channel, as Kennel recorded it.</summary>
public sealed record ChannelMessage
{
    public required string Id { get; init; }
    public required string Channel { get; init; }
    public required string Direction { get; init; }
    public required string Action { get; init; }
    public required string Chat { get; init; }
    public string? Thread { get; init; }
    public string? Sender { get; init; }
    public required string Text { get; init; }
    public string? TargetMessage { get; init; }
    public string? Emoji { get; init; }
    public string? PlatformMessageId { get; init; }
    public string? RunId { get; init; }
    public required string Status { get; init; }
    public int Attempts { get; init; }
    public string? Error { get; init; }

    /// <summary>For a send waiting to be retried: when the next attempt is due.</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? SentAt { get; init; }
}

public sealed record ChannelMessagePage(IReadOnlyList<ChannelMessage> Items, string? NextCursor);

/// <summary>What an inbound event came to: <c>queued</c> (a run answers it), <c>duplicate</c>, <c>ignored</c> (a sender not allowed) or <c>skipped</c>.</summary>
public sealed record ChannelReceipt(string Status, string? RunId = null);
