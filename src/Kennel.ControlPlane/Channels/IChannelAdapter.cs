using Kennel.Contracts.Channels;
using Kennel.ControlPlane.Delivery;

namespace Kennel.ControlPlane.Channels;

/// <summary>
/// One messaging platform, behind the one shape every channel has: inbound requests verified and read into messages,
/// outbound acts (send, react, pin) written as the platform's HTTP requests and their answers read back. Adding a
/// platform is a folder with a class implementing this, registered in <see cref="ChannelSetup"/>; the receiving,
/// deduplication, conversations, outbox, retries and status are shared.
/// </summary>
public interface IChannelAdapter
{
    /// <summary>The <c>kind</c> in the config.</summary>
    string Kind { get; }

    /// <summary>What must be set before the channel can work (secret fields and <c>url</c>), whatever the traffic.</summary>
    IReadOnlyList<string> Required { get; }

    /// <summary>Checks an inbound request's signature (with the channel's secrets) and reads it. Never throws for a bad request.</summary>
    InboundEvent Receive(InboundRequest request);

    /// <summary>The platform's HTTP request for <paramref name="message"/>, to the platform's API at <paramref name="apiBase"/> (or the channel's URL).</summary>
    HttpRequestMessage Request(OutboundRequest message);

    /// <summary>
    /// A request that asks the platform whether the channel's credentials work (Slack's <c>auth.test</c>), or null for a
    /// kind with nothing to ask; <paramref name="message"/> carries the channel, its secrets and the API's base URL.
    /// </summary>
    HttpRequestMessage? Probe(OutboundRequest message);

    /// <summary>What the platform said to the probe, in one line: who the credentials are, or the platform's error.</summary>
    Task<ChannelProbe> ProbeOutcomeAsync(HttpResponseMessage response, CancellationToken cancellationToken);

    /// <summary>What the platform's answer means: sent (with its message id), worth retrying, or failed for good.</summary>
    Task<SendOutcome> OutcomeAsync(OutboundRequest message, HttpResponseMessage response, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>A request on a channel's inbound URL, with the channel's secrets by field name.</summary>
public sealed record InboundRequest(ChannelConfig Channel, IReadOnlyDictionary<string, string> Secrets, Func<string, string?> Headers, byte[] Body, DateTimeOffset Now);

/// <summary>What an inbound request is.</summary>
public abstract record InboundEvent
{
    /// <summary>Not authentic (or not readable as the platform's): 401, and nothing is recorded. The reason is for the log only.</summary>
    public sealed record Refused(string Reason) : InboundEvent;

    /// <summary>A handshake the platform expects a set answer to (Slack's url_verification), given once the request is authentic.</summary>
    public sealed record Handshake(string Json) : InboundEvent;

    /// <summary>Authentic, but not a message for the agent (a bot's own message, an edit, another event type): 200, nothing else.</summary>
    public sealed record Skipped(string Why) : InboundEvent;

    /// <summary>
    /// A message: <paramref name="EventId"/> is the platform's id of the delivery (the same on every retry), <paramref name="Thread"/>
    /// the thread it is in (answers go there), <paramref name="MessageId"/> the platform's id of the message itself.
    /// </summary>
    public sealed record Message(string EventId, string Chat, string? Thread, string? Sender, string Text, string? MessageId) : InboundEvent;
}

/// <summary>An outbound row to send, with the channel's settings, its secrets by field, and the platform API's base URL.</summary>
public sealed record OutboundRequest(
    string Id, string Action, string Chat, string? Thread, string Text, string? TargetMessage, string? Emoji,
    ChannelConfig Channel, IReadOnlyDictionary<string, string> Secrets, Uri? ApiBase, DateTimeOffset Now);

/// <summary>An attempt's outcome (as webhooks' are classified) and the platform's id of what was sent.</summary>
public sealed record SendOutcome(DeliveryAttempt Attempt, string? PlatformMessageId);

public static class ChannelActions
{
    public const string Send = "send";
    public const string React = "react";
    public const string Pin = "pin";
    public const string Inbound = "message";

    public static readonly IReadOnlyList<string> All = [Send, React, Pin];
}
