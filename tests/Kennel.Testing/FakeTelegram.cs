using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;

namespace Kennel.Testing;

/// <summary>
/// Telegram's Bot API on loopback, as Telegram answers it: <c>POST /bot{token}/{method}</c> with a JSON body, every answer
/// <c>{"ok": true, "result": …}</c> or <c>{"ok": false, "error_code", "description", "parameters"?}</c> with the same HTTP
/// status. A wrong token is <c>401 Unauthorized</c>; <c>getMe</c> answers the bot; <c>setWebhook</c> refuses a URL that is
/// not https, as Telegram does; <c>sendMessage</c> answers a new message with its <c>message_id</c>. Answers a test queued
/// (a 429 with <c>parameters.retry_after</c>, a 502) come first. It also writes updates as Telegram delivers them.
/// </summary>
public sealed class FakeTelegram : FakePlatform
{
    public const string Token = "7000001:AAHkennel-test_token";
    public const string SecretToken = "kennel-secret_token-0123456789";
    public const string Header = "X-Telegram-Bot-Api-Secret-Token";

    private readonly ConcurrentQueue<(int Status, string Body)> answers = new();
    private int next = 500;

    private FakeTelegram()
    {
    }

    /// <summary>The Bot API's base URL, as <c>KENNEL_TELEGRAM_API_URL</c> takes it.</summary>
    public Uri ApiUrl => Root;

    /// <summary>Queues an answer for the next call: <c>{"ok": false, "error_code": status, "description", "parameters"?}</c>.</summary>
    public void ThenFail(int status, string description, int? retryAfter = null) => answers.Enqueue((status, WithoutNulls(new JsonObject
    {
        ["ok"] = false,
        ["error_code"] = status,
        ["description"] = description,
        ["parameters"] = retryAfter is { } seconds ? new JsonObject { ["retry_after"] = seconds } : null,
    }).ToJsonString()));

    public static async Task<FakeTelegram> StartAsync()
    {
        var telegram = new FakeTelegram();
        await telegram.StartAsync(app => app.MapPost("/bot{token}/{method}", async (HttpContext context, string token, string method) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var text = await reader.ReadToEndAsync();
            if (token != Token)
            {
                return Fail(401, "Unauthorized");
            }
            if (method == "getMe")
            {
                return Ok(new JsonObject
                {
                    ["id"] = 7000001,
                    ["is_bot"] = true,
                    ["first_name"] = "Kennel Test",
                    ["username"] = "kennel_test_bot",
                    ["can_join_groups"] = true,
                    ["supports_inline_queries"] = false,
                });
            }
            if (context.Request.ContentType?.StartsWith("application/json", StringComparison.Ordinal) != true || JsonNode.Parse(text) is not JsonObject body)
            {
                return Fail(400, "Bad Request: the request body is not JSON");
            }
            telegram.Calls.Enqueue(new ApiCall(method, body));
            if (telegram.answers.TryDequeue(out var queued))
            {
                return Results.Text(queued.Body, "application/json", Encoding.UTF8, queued.Status);
            }
            return method switch
            {
                "setWebhook" when body["url"]?.GetValue<string>() is not { } url || !url.StartsWith("https://", StringComparison.Ordinal) =>
                    Fail(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"),
                "setWebhook" => Results.Json(new JsonObject { ["ok"] = true, ["result"] = true, ["description"] = "Webhook was set" }),
                "sendMessage" when body["chat_id"] is null || body["text"] is null => Fail(400, "Bad Request: message text is empty"),
                "sendMessage" => Ok(WithoutNulls(new JsonObject
                {
                    ["message_id"] = Interlocked.Increment(ref telegram.next),
                    ["chat"] = new JsonObject { ["id"] = body["chat_id"]!.DeepClone(), ["type"] = "supergroup" },
                    ["date"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                    ["message_thread_id"] = body["message_thread_id"]?.DeepClone(),
                    ["text"] = body["text"]!.DeepClone(),
                })),
                "setMessageReaction" or "pinChatMessage" when body["chat_id"] is null || body["message_id"] is not JsonValue =>
                    Fail(400, "Bad Request: message identifier is not specified"),
                "setMessageReaction" or "pinChatMessage" => Results.Json(new JsonObject { ["ok"] = true, ["result"] = true }),
                _ => Fail(404, "Not Found"),
            };
        }));
        return telegram;
    }

    private static IResult Ok(JsonObject result) => Results.Json(new JsonObject { ["ok"] = true, ["result"] = result });

    private static IResult Fail(int status, string description) => Results.Text(
        new JsonObject { ["ok"] = false, ["error_code"] = status, ["description"] = description }.ToJsonString(), "application/json", Encoding.UTF8, status);

    /// <summary>An update as Telegram POSTs it to a webhook, with the secret token header (none when null).</summary>
    public static HttpRequestMessage Deliver(string path, string update, string? secret = SecretToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(update, Encoding.UTF8, "application/json") };
        if (secret is not null)
        {
            request.Headers.Add(Header, secret);
        }
        return request;
    }

    /// <summary>A <c>message</c> update from user <paramref name="from"/> in chat <paramref name="chat"/>, in forum topic <paramref name="topic"/> if given.</summary>
    public static string Message(long updateId, long chat, long from, string text, long messageId, long? topic = null) => WithoutNulls(new JsonObject
    {
        ["update_id"] = updateId,
        ["message"] = new JsonObject
        {
            ["message_id"] = messageId,
            ["message_thread_id"] = topic,
            ["is_topic_message"] = topic is null ? null : true,
            ["from"] = new JsonObject { ["id"] = from, ["is_bot"] = false, ["first_name"] = "Ada", ["username"] = "ada", ["language_code"] = "en" },
            ["chat"] = chat < 0
                ? new JsonObject { ["id"] = chat, ["title"] = "Kennel team", ["type"] = "supergroup", ["is_forum"] = topic is not null }
                : new JsonObject { ["id"] = chat, ["first_name"] = "Ada", ["type"] = "private" },
            ["date"] = 1712345678,
            ["text"] = text,
        },
    }).ToJsonString();

    /// <summary>Telegram leaves a field out rather than send null.</summary>
    private static JsonObject WithoutNulls(JsonObject node)
    {
        foreach (var (name, value) in node.ToList())
        {
            if (value is null)
            {
                node.Remove(name);
            }
            else if (value is JsonObject inner)
            {
                WithoutNulls(inner);
            }
        }
        return node;
    }
}
