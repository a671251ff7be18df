using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kennel.Contracts.Channels;
using Kennel.ControlPlane.Daemons;
using Kennel.ControlPlane.Delivery;

namespace Kennel.ControlPlane.Channels.Slack;

/// <summary>
/// Slack: inbound through the Events API (signed v0 with the app's signing secret, refused outside 5 minutes of its
/// timestamp; the url_verification challenge answered; a retry, marked <c>X-Slack-Retry-Num</c>, carries the same
/// <c>event_id</c> and so is taken once). Outbound through the Web API with the bot token: <c>chat.postMessage</c>
/// (in a thread by <c>thread_ts</c>), <c>reactions.add</c> and <c>pins.add</c>. Slack answers 200 with <c>"ok": false</c>
/// for most errors; <c>ratelimited</c> (or an HTTP 429 with Retry-After) is retried, any other error is final.
/// </summary>
public sealed class SlackChannel : IChannelAdapter
{
    public const string KindName = "slack";
    public const string SigningSecret = "signingSecret";
    public const string BotToken = "botToken";
    public const string SignatureHeader = "X-Slack-Signature";

    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    public string Kind => KindName;

    public IReadOnlyList<string> Required { get; } = [SigningSecret, BotToken];

    public InboundEvent Receive(InboundRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Secrets.TryGetValue(SigningSecret, out var secret);
        if (WebhookSignature.Check(WebhookSignature.SlackV0, secret, SignatureHeader, request.Headers, request.Body, request.Now) is { } reason)
        {
            return new InboundEvent.Refused(reason);
        }
        JsonObject? payload;
        try
        {
            payload = JsonNode.Parse(request.Body) as JsonObject;
        }
        catch (JsonException)
        {
            payload = null;
        }
        switch (Text(payload, "type"))
        {
            case "url_verification" when Text(payload, "challenge") is { } challenge:
                return new InboundEvent.Handshake(new JsonObject { ["challenge"] = challenge }.ToJsonString());
            case "event_callback":
                break;
            default:
                return new InboundEvent.Skipped("Not an event callback.");
        }
        var slackEvent = payload!["event"] as JsonObject;
        if (Text(payload, "event_id") is not { Length: <= 256 } eventId || Text(slackEvent, "type") != "message")
        {
            return new InboundEvent.Skipped("Not a message event (subscribe the app to message.* events).");
        }
        if (slackEvent!["bot_id"] is not null || Text(slackEvent, "subtype") is not null)
        {
            return new InboundEvent.Skipped("A bot's message, or an edit, join or other subtype: only people's messages reach the agent.");
        }
        var chat = Text(slackEvent, "channel");
        var text = Text(slackEvent, "text");
        return chat is null || text is null
            ? new InboundEvent.Skipped("The message has no channel or text.")
            : new InboundEvent.Message(eventId, chat, Text(slackEvent, "thread_ts"), Text(slackEvent, "user"), text, Text(slackEvent, "ts"));
    }

    public HttpRequestMessage Request(OutboundRequest message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var (method, body) = message.Action switch
        {
            ChannelActions.React => ("reactions.add", new JsonObject
            {
                ["channel"] = message.Chat,
                ["timestamp"] = message.TargetMessage,
                ["name"] = message.Emoji?.Trim(':'),
            }),
            ChannelActions.Pin => ("pins.add", new JsonObject { ["channel"] = message.Chat, ["timestamp"] = message.TargetMessage }),
            _ => ("chat.postMessage", new JsonObject { ["channel"] = message.Chat, ["text"] = message.Text, ["thread_ts"] = message.Thread }),
        };
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(message.ApiBase!, method))
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToJsonString())),
        };
        request.Content.Headers.ContentType = Json;
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", message.Secrets[BotToken]);
        return request;
    }

    /// <summary><c>auth.test</c> with the bot token: Slack says which team and bot user the token is, or why not.</summary>
    public HttpRequestMessage? Probe(OutboundRequest message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(message.ApiBase!, "auth.test")) { Content = new ByteArrayContent("{}"u8.ToArray()) };
        request.Content.Headers.ContentType = Json;
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", message.Secrets[BotToken]);
        return request;
    }

    public async Task<ChannelProbe> ProbeOutcomeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (!response.IsSuccessStatusCode)
        {
            return new ChannelProbe(false, $"Slack answered auth.test with HTTP {(int)response.StatusCode}.");
        }
        JsonObject? answer;
        try
        {
            answer = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) as JsonObject;
        }
        catch (JsonException)
        {
            answer = null;
        }
        return answer?["ok"] is JsonValue ok && ok.TryGetValue<bool>(out var isOk) && isOk
            ? new ChannelProbe(true, $"auth.test: team {Text(answer, "team") ?? "?"} ({Text(answer, "team_id") ?? "?"}), bot user {Text(answer, "user") ?? "?"} ({Text(answer, "user_id") ?? "?"}).")
            : new ChannelProbe(false, $"auth.test: Slack: {Text(answer, "error") ?? "an answer that is not Slack's JSON"}");
    }

    public async Task<SendOutcome> OutcomeAsync(OutboundRequest message, HttpResponseMessage response, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (!response.IsSuccessStatusCode)
        {
            return new SendOutcome(await DeliveryAttempt.FromResponseAsync(response, now, cancellationToken), null);
        }
        JsonObject? answer;
        try
        {
            answer = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) as JsonObject;
        }
        catch (JsonException)
        {
            answer = null;
        }
        var status = (int)response.StatusCode;
        if (answer?["ok"] is JsonValue ok && ok.TryGetValue<bool>(out var isOk) && isOk)
        {
            return new SendOutcome(new DeliveryAttempt(true, false, null, status, null), Text(answer, "ts") ?? message?.TargetMessage);
        }
        var error = Text(answer, "error") ?? "an answer that is not Slack's JSON";
        return new SendOutcome(new DeliveryAttempt(false, error == "ratelimited", $"Slack: {error}", status, null), null);
    }

    private static string? Text(JsonObject? node, string field) =>
        node?[field] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;
}
