using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kennel.Contracts.Channels;
using Kennel.ControlPlane.Delivery;

namespace Kennel.ControlPlane.Channels.Telegram;

/// <summary>
/// Telegram: inbound through a webhook that Kennel registers with <c>setWebhook</c> (<see cref="IChannelRegistration"/>),
/// each update carrying the channel's secret token in <c>X-Telegram-Bot-Api-Secret-Token</c> (compared in constant time)
/// and taken once by its <c>update_id</c>. A chat is a conversation, a forum topic (<c>message_thread_id</c>) one of its
/// own. Outbound through the Bot API with the bot token: <c>sendMessage</c> (into the topic, as a reply when a message is
/// named), <c>setMessageReaction</c> and <c>pinChatMessage</c>. Every answer is <c>{"ok": …}</c>: a 429 (its
/// <c>parameters.retry_after</c> honoured) and a 5xx are retried, any other error is final with Telegram's description.
/// </summary>
/// <remarks>
/// Written against the wire format rather than the Telegram.Bot library: every channel is a request built here and sent by
/// the shared <see cref="ChannelHttp"/> (outbound address guard, no redirects, one time limit) and retried by the shared
/// outbox; the library sends, retries and throws by itself, so it would sidestep both for five JSON calls.
/// </remarks>
public sealed class TelegramChannel : IChannelAdapter, IChannelRegistration
{
    public const string KindName = "telegram";
    public const string BotToken = Slack.SlackChannel.BotToken;
    public const string SecretToken = "secretToken";
    public const string SecretHeader = "X-Telegram-Bot-Api-Secret-Token";

    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    public string Kind => KindName;

    public IReadOnlyList<string> Required { get; } = [BotToken, SecretToken];

    public InboundEvent Receive(InboundRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Secrets.TryGetValue(SecretToken, out var secret);
        if (!SameSecret(secret, request.Headers(SecretHeader)))
        {
            return new InboundEvent.Refused($"The {SecretHeader} header is missing or is not the channel's secret token.");
        }
        var update = Parse(request.Body);
        if (Id(update?["update_id"]) is not { } updateId)
        {
            return new InboundEvent.Skipped("Not a Telegram update.");
        }
        if (update!["message"] is not JsonObject message)
        {
            return new InboundEvent.Skipped("Not a new message: edits, channel posts and other updates are not answered.");
        }
        var from = message["from"] as JsonObject;
        if (from?["is_bot"] is JsonValue isBot && isBot.TryGetValue<bool>(out var bot) && bot)
        {
            return new InboundEvent.Skipped("A bot's message: only people's messages reach the agent.");
        }
        var chat = Id((message["chat"] as JsonObject)?["id"]);
        if (chat is null || message["text"] is not JsonValue textValue || !textValue.TryGetValue<string>(out var text) || text.Length == 0)
        {
            return new InboundEvent.Skipped("The message has no chat or no text (photos, stickers and other media are not read).");
        }
        var topic = message["is_topic_message"] is JsonValue isTopic && isTopic.TryGetValue<bool>(out var inTopic) && inTopic
            ? Id(message["message_thread_id"])
            : null;
        return new InboundEvent.Message(updateId, chat, topic, Id(from?["id"]), text, Id(message["message_id"]));
    }

    public HttpRequestMessage Request(OutboundRequest message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var (method, body) = message.Action switch
        {
            ChannelActions.React => ("setMessageReaction", new JsonObject
            {
                ["chat_id"] = Number(message.Chat),
                ["message_id"] = Number(message.TargetMessage),
                ["reaction"] = new JsonArray(new JsonObject { ["type"] = "emoji", ["emoji"] = message.Emoji }),
            }),
            ChannelActions.Pin => ("pinChatMessage", new JsonObject { ["chat_id"] = Number(message.Chat), ["message_id"] = Number(message.TargetMessage) }),
            _ => ("sendMessage", SendBody(message)),
        };
        return Call(message, method, body);
    }

    private static JsonObject SendBody(OutboundRequest message)
    {
        var body = new JsonObject { ["chat_id"] = Number(message.Chat), ["text"] = message.Text };
        if (message.Thread is not null)
        {
            body["message_thread_id"] = Number(message.Thread);
        }
        if (message.TargetMessage is not null)
        {
            body["reply_parameters"] = new JsonObject { ["message_id"] = Number(message.TargetMessage), ["allow_sending_without_reply"] = true };
        }
        return body;
    }

    /// <summary><c>getMe</c> with the bot token: Telegram says which bot the token is, or why not.</summary>
    public HttpRequestMessage? Probe(OutboundRequest message) => Call(message, "getMe", new JsonObject());

    public async Task<ChannelProbe> ProbeOutcomeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var (answer, status) = await ReadAsync(response, cancellationToken);
        return Ok(answer) && answer!["result"] is JsonObject me
            ? new ChannelProbe(true, $"getMe: @{Text(me, "username") ?? "?"} ({Id(me["id"]) ?? "?"}), {Text(me, "first_name") ?? "?"}.")
            : new ChannelProbe(false, $"getMe: {Error(answer, status)}");
    }

    /// <summary><c>setWebhook</c>: updates of type <c>message</c> to <paramref name="inboundUrl"/>, carrying the secret token.</summary>
    public HttpRequestMessage Register(OutboundRequest message, Uri inboundUrl)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(inboundUrl);
        return Call(message, "setWebhook", new JsonObject
        {
            ["url"] = inboundUrl.AbsoluteUri,
            ["secret_token"] = message.Secrets[SecretToken],
            ["allowed_updates"] = new JsonArray("message"),
        });
    }

    public async Task<ChannelProbe> RegisterOutcomeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var (answer, status) = await ReadAsync(response, cancellationToken);
        return Ok(answer)
            ? new ChannelProbe(true, $"setWebhook: {Text(answer, "description") ?? "Webhook was set"}.")
            : new ChannelProbe(false, $"setWebhook: {Error(answer, status)}");
    }

    public async Task<SendOutcome> OutcomeAsync(OutboundRequest message, HttpResponseMessage response, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var (answer, status) = await ReadAsync(response, cancellationToken);
        if (Ok(answer))
        {
            var sent = (answer!["result"] as JsonObject)?["message_id"];
            return new SendOutcome(new DeliveryAttempt(true, false, null, status, null), Id(sent) ?? message.TargetMessage);
        }
        var code = answer?["error_code"] is JsonValue value && value.TryGetValue<int>(out var number) ? number : status;
        var retryable = code is 408 or 429 or >= 500 || status is 408 or 429 or >= 500;
        var retryAfter = (answer?["parameters"] as JsonObject)?["retry_after"] is JsonValue wait && wait.TryGetValue<int>(out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : (TimeSpan?)null;
        return new SendOutcome(new DeliveryAttempt(false, retryable, Error(answer, status), status, retryable ? retryAfter : null), null);
    }

    /// <summary>A Bot API call: <c>POST {api}/bot{token}/{method}</c> with a JSON body. The URL holds the token, so it is never logged.</summary>
    private static HttpRequestMessage Call(OutboundRequest message, string method, JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(message);
        var token = Uri.EscapeDataString(message.Secrets[BotToken]).Replace("%3A", ":", StringComparison.Ordinal);
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"{message.ApiBase!.AbsoluteUri}bot{token}/{method}"))
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToJsonString())),
        };
        request.Content.Headers.ContentType = Json;
        return request;
    }

    /// <summary>Whether the header is the secret token, compared in constant time (over hashes, so the length does not show).</summary>
    private static bool SameSecret(string? secret, string? given) =>
        !string.IsNullOrEmpty(secret) && given is not null
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));

    private static async Task<(JsonObject? Answer, int Status)> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        return (Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken)), (int)response.StatusCode);
    }

    private static JsonObject? Parse(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool Ok(JsonObject? answer) => answer?["ok"] is JsonValue ok && ok.TryGetValue<bool>(out var isOk) && isOk;

    /// <summary>Telegram's error in one line (<c>Telegram: 400 Bad Request: chat not found</c>), or the HTTP status of an answer that is not its JSON.</summary>
    private static string Error(JsonObject? answer, int status) =>
        answer?["ok"] is null
            ? string.Create(CultureInfo.InvariantCulture, $"HTTP {status}: an answer that is not the Bot API's JSON")
            : $"Telegram: {Id(answer["error_code"]) ?? status.ToString(CultureInfo.InvariantCulture)} {Text(answer, "description") ?? "no description"}";

    /// <summary>A Telegram id (a number, or a string such as <c>@channelname</c>) as text.</summary>
    private static string? Id(JsonNode? node) =>
        node is JsonValue value && (value.TryGetValue<long>(out var number)
            ? number.ToString(CultureInfo.InvariantCulture)
            : value.TryGetValue<string>(out var text) && text.Length is > 0 and <= 256 ? text : null) is { } id ? id : null;

    /// <summary>An id as Telegram takes it: a number when it is one, else the text (a <c>@channelname</c>).</summary>
    private static JsonValue? Number(string? id) =>
        id is null ? null : long.TryParse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) ? JsonValue.Create(number) : JsonValue.Create(id);

    private static string? Text(JsonObject? node, string field) =>
        node?[field] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;
}
