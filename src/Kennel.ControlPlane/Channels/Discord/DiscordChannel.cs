using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kennel.Contracts.Channels;
using Kennel.ControlPlane.Delivery;

namespace Kennel.ControlPlane.Channels.Discord;

/// <summary>
/// Discord's REST API v10 with the bot token (<c>Authorization: Bot …</c>): create message (a reply by
/// <c>message_reference</c>; a thread is a channel of its own, so <c>thread</c>, when given, is where the message goes),
/// add reaction, pin; <c>GET /users/@me</c> as the probe. Inbound messages arrive through the Gateway
/// (<see cref="DiscordGateways"/>), never at the inbound URL. A 429 waits for the longest of the body's
/// <c>retry_after</c>, <c>X-RateLimit-Reset-After</c> and <c>Retry-After</c> (a global limit says so in the error);
/// 5xx are retried; any other error is final, with Discord's own message.
/// </summary>
public sealed class DiscordChannel : IChannelAdapter
{
    public const string KindName = "discord";

    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    public string Kind => KindName;

    public IReadOnlyList<string> Required { get; } = [Slack.SlackChannel.BotToken];

    public InboundEvent Receive(InboundRequest request) =>
        new InboundEvent.Refused("Discord delivers a channel's messages through the Gateway, not to the inbound URL.");

    public HttpRequestMessage Request(OutboundRequest message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var channel = Uri.EscapeDataString(message.Thread ?? message.Chat);
        var target = Uri.EscapeDataString(message.TargetMessage ?? "");
        var request = message.Action switch
        {
            ChannelActions.React => new HttpRequestMessage(HttpMethod.Put,
                new Uri(message.ApiBase!, $"channels/{channel}/messages/{target}/reactions/{Uri.EscapeDataString(message.Emoji?.Trim(':') ?? "")}/@me")),
            ChannelActions.Pin => new HttpRequestMessage(HttpMethod.Put, new Uri(message.ApiBase!, $"channels/{channel}/pins/{target}")),
            _ => new HttpRequestMessage(HttpMethod.Post, new Uri(message.ApiBase!, $"channels/{channel}/messages"))
            {
                Content = Body(new JsonObject
                {
                    ["content"] = message.Text,
                    ["message_reference"] = message.TargetMessage is null ? null
                        : new JsonObject { ["message_id"] = message.TargetMessage, ["fail_if_not_exists"] = false },
                    // An answer mentions nobody: the agent's words never ping @everyone or a role.
                    ["allowed_mentions"] = new JsonObject { ["parse"] = new JsonArray() },
                }),
            },
        };
        Authorize(request, message);
        return request;
    }

    /// <summary><c>GET /users/@me</c> with the bot token: Discord says which bot user the token is, or why not.</summary>
    public HttpRequestMessage? Probe(OutboundRequest message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(message.ApiBase!, "users/@me"));
        Authorize(request, message);
        return request;
    }

    public async Task<ChannelProbe> ProbeOutcomeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var answer = await ReadAsync(response, cancellationToken);
        return response.IsSuccessStatusCode && Text(answer, "id") is { } id
            ? new ChannelProbe(true, $"users/@me: bot user {Text(answer, "username") ?? "?"} ({id}).")
            : new ChannelProbe(false, $"users/@me: Discord: HTTP {(int)response.StatusCode}: {Text(answer, "message") ?? "an answer that is not Discord's JSON"}");
    }

    public async Task<SendOutcome> OutcomeAsync(OutboundRequest message, HttpResponseMessage response, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(response);
        var status = (int)response.StatusCode;
        var answer = await ReadAsync(response, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return new SendOutcome(new DeliveryAttempt(true, false, null, status, null),
                message.Action == ChannelActions.Send ? Text(answer, "id") : message.TargetMessage);
        }
        var error = $"HTTP {status}: Discord: {Text(answer, "message") ?? "an answer that is not Discord's JSON"}";
        if (status == 429)
        {
            var global = answer?["global"] is JsonValue flag && flag.TryGetValue<bool>(out var isGlobal) && isGlobal;
            return new SendOutcome(new DeliveryAttempt(false, true, global ? error + " (the bot's global rate limit)" : error, status, RateLimitWait(response, answer)), null);
        }
        return new SendOutcome(new DeliveryAttempt(false, status is 408 or >= 500, error, status, null), null);
    }

    /// <summary>The longest wait Discord asked for, in the body or either header; seconds may have fractions.</summary>
    internal static TimeSpan? RateLimitWait(HttpResponseMessage response, JsonObject? answer)
    {
        var waits = new List<double>();
        if (answer?["retry_after"] is JsonValue body && body.TryGetValue<double>(out var seconds))
        {
            waits.Add(seconds);
        }
        foreach (var header in new[] { "X-RateLimit-Reset-After", "Retry-After" })
        {
            if (response.Headers.TryGetValues(header, out var values)
                && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                waits.Add(value);
            }
        }
        return waits.Count > 0 && waits.Max() is > 0 and var longest ? TimeSpan.FromSeconds(Math.Min(longest, DeliveryRetries.MaxRetryAfter.TotalSeconds)) : null;
    }

    private static void Authorize(HttpRequestMessage request, OutboundRequest message) =>
        request.Headers.Authorization = new AuthenticationHeaderValue("Bot", message.Secrets[Slack.SlackChannel.BotToken]);

    private static ByteArrayContent Body(JsonObject body)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToJsonString()));
        content.Headers.ContentType = Json;
        return content;
    }

    /// <summary>Discord's JSON answer, or null when the body is empty or not JSON.</summary>
    internal static async Task<JsonObject?> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            return text.Length == 0 ? null : JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static string? Text(JsonObject? node, string field) =>
        node?[field] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;
}
