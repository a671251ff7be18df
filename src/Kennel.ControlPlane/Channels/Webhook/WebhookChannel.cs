using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kennel.ControlPlane.Delivery;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

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
        var headers = new HeaderDictionary();
        foreach (var name in new[] { "webhook-id", "webhook-timestamp", "webhook-signature" })
        {
            if (request.Headers(name) is { } value)
            {
                headers[name] = value;
            }
        }
        try
        {
            new StandardWebhook(secret).Verify(body, headers);
        }
        catch (WebhookVerificationException failure)
        {
            return new InboundEvent.Refused($"Standard Webhooks verification failed: {failure.Message}");
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

    /// <summary>A 2xx is sent, and the message's id (its <c>webhook-id</c>) is the id the receiver knows it by.</summary>
    public async Task<SendOutcome> OutcomeAsync(OutboundRequest message, HttpResponseMessage response, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var attempt = await DeliveryAttempt.FromResponseAsync(response, now, cancellationToken);
        return new SendOutcome(attempt, attempt.Delivered ? message.Id : null);
    }

    private static string? Text(JsonObject? message, string field) =>
        message?[field] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length is > 0 and <= 100_000 ? text : null;
}
