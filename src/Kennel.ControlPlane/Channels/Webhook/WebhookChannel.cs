using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kennel.Contracts.Channels;
using Kennel.ControlPlane.Delivery;
using StandardWebhooks;

namespace Kennel.ControlPlane.Channels.Webhook;

/// <summary>
/// The generic channel: both directions are JSON POSTs signed the Standard Webhooks way (HMAC-SHA256 over
/// <c>{webhook-id}.{webhook-timestamp}.{body}</c>, a 5-minute window) under the channel's <c>whsec_</c> signing secret.
/// Inbound: <c>{"chat", "thread"?, "sender"?, "text", "messageId"?}</c>, deduplicated by <c>webhook-id</c>. Outbound:
/// <c>{"type": "message.send" | "message.react" | "message.pin", "id", "channel", "chat", "thread", "text", "message", "emoji"}</c>
/// to the channel's <c>url</c>, whose <c>webhook-id</c> is the message's id in Kennel's history.
/// </summary>
public sealed class WebhookChannel : IChannelAdapter
{
    public const string KindName = "webhook";
    public const string SigningSecret = "signingSecret";
    public const int MaxIdLength = 256;

    /// <summary>How far a request's timestamp may be from now, either way.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    private static readonly MediaTypeHeaderValue Json = new("application/json");

    public string Kind => KindName;

    public IReadOnlyList<string> Required { get; } = [SigningSecret, "url"];

    public InboundEvent Receive(InboundRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Secrets.TryGetValue(SigningSecret, out var secret) || WebhookSecret.Validate(secret) is not null)
        {
            return new InboundEvent.Refused("The channel has no usable whsec_ signing secret.");
        }
        string body;
        try
        {
            body = new UTF8Encoding(false, true).GetString(request.Body);
        }
        catch (DecoderFallbackException)
        {
            return new InboundEvent.Refused("The body is not UTF-8.");
        }
        if (Verify(secret, request.Headers, body, request.Now) is { } reason)
        {
            return new InboundEvent.Refused(reason);
        }
        var id = request.Headers("webhook-id")!;
        if (id.Length > MaxIdLength)
        {
            return new InboundEvent.Refused("The webhook-id is too long.");
        }
        JsonObject? message;
        try
        {
            message = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            message = null;
        }
        var chat = Text(message, "chat");
        var text = Text(message, "text");
        return chat is null || text is null
            ? new InboundEvent.Skipped("The body has no chat and text strings.")
            : new InboundEvent.Message(id, chat, Text(message, "thread"), Text(message, "sender"), text, Text(message, "messageId"));
    }

    public HttpRequestMessage Request(OutboundRequest message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var body = new JsonObject
        {
            ["type"] = $"message.{message.Action}",
            ["id"] = message.Id,
            ["channel"] = message.Channel.Name,
            ["chat"] = message.Chat,
            ["thread"] = message.Thread,
            ["text"] = message.Action == ChannelActions.Send ? message.Text : null,
            ["message"] = message.TargetMessage,
            ["emoji"] = message.Emoji,
        }.ToJsonString();
        var request = new HttpRequestMessage(HttpMethod.Post, message.Channel.Url) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.ContentType = Json;
        request.Headers.Add("webhook-id", message.Id);
        request.Headers.Add("webhook-timestamp", message.Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", new StandardWebhook(message.Secrets[SigningSecret]).Sign(message.Id, message.Now, body));
        return request;
    }

    /// <summary>A webhook has no endpoint to ask: its status comes from its traffic alone.</summary>
    public HttpRequestMessage? Probe(OutboundRequest message) => null;

    public Task<ChannelProbe> ProbeOutcomeAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        throw new NotSupportedException("A webhook channel has no probe.");

    /// <summary>A 2xx is sent, and the message's id (its <c>webhook-id</c>) is the id the receiver knows it by.</summary>
    public async Task<SendOutcome> OutcomeAsync(OutboundRequest message, HttpResponseMessage response, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var attempt = await DeliveryAttempt.FromResponseAsync(response, now, cancellationToken);
        return new SendOutcome(attempt, attempt.Delivered ? message.Id : null);
    }

    /// <summary>
    /// Null when one of the <c>v1,</c> signatures in <c>webhook-signature</c> is the HMAC-SHA256 of
    /// <c>{webhook-id}.{webhook-timestamp}.{body}</c> under the secret's key and the timestamp is within
    /// <see cref="Window"/> of now; otherwise why not. Compared in constant time, the MAC computed before the time is judged.
    /// </summary>
    private static string? Verify(string secret, Func<string, string?> headers, string body, DateTimeOffset now)
    {
        var id = headers("webhook-id");
        var timestamp = headers("webhook-timestamp");
        var signatures = headers("webhook-signature");
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signatures))
        {
            return "The webhook-id, webhook-timestamp or webhook-signature header is missing.";
        }
        var key = Convert.FromBase64String(secret[WebhookSecret.Prefix.Length..]);
        var expected = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        var matches = false;
        foreach (var entry in signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var given = new byte[expected.Length];
            matches |= entry.StartsWith("v1,", StringComparison.Ordinal)
                && Convert.TryFromBase64String(entry[3..], given, out var written) && written == expected.Length
                && CryptographicOperations.FixedTimeEquals(given, expected);
        }
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            || (now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > Window)
        {
            return $"The webhook-timestamp is missing, unreadable or more than {Window.TotalMinutes} minutes from now.";
        }
        return matches ? null : "No v1 signature in webhook-signature matches.";
    }

    private static string? Text(JsonObject? message, string field) =>
        message?[field] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length is > 0 and <= 100_000 ? text : null;
}
