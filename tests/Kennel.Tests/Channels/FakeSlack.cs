using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Kennel.Testing;
using Microsoft.AspNetCore.Http;

namespace Kennel.Tests.Channels;

/// <summary>
/// Slack's Web API on loopback, as Slack answers it: <c>POST /api/{method}</c> with a bearer token (a wrong one is
/// <c>{"ok": false, "error": "invalid_auth"}</c>) and a JSON body (one without its required fields is
/// <c>invalid_arguments</c>); <c>chat.postMessage</c> answers with a new <c>ts</c>, <c>auth.test</c> with the bot's team and user. Answers a test queued (a 429 with
/// Retry-After, a 500) come first. It also signs events the way Slack does, with its own HMAC code.
/// </summary>
public sealed class FakeSlack : FakePlatform
{
    public const string Token = "xoxb-test-token";
    public const string SigningSecret = "8f742231b10e8888abcd99yyyzzz85a5";

    private readonly ConcurrentQueue<(int Status, string? RetryAfter, string Body)> answers = new();
    private int next = 100;

    private FakeSlack()
    {
    }

    /// <summary>The Web API's base URL, as <c>KENNEL_SLACK_API_URL</c> takes it.</summary>
    public Uri ApiUrl => new(Root, "api/");

    public void ThenAnswer(int status, string? retryAfter = null, string body = "") => answers.Enqueue((status, retryAfter, body));

    public static async Task<FakeSlack> StartAsync()
    {
        var slack = new FakeSlack();
        await slack.StartAsync(app => app.MapPost("/api/{method}", async (HttpContext context, string method) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var text = await reader.ReadToEndAsync();
            if (context.Request.Headers.Authorization.ToString() != $"Bearer {Token}")
            {
                return Results.Json(new JsonObject { ["ok"] = false, ["error"] = "invalid_auth" });
            }
            if (method == "auth.test")
            {
                return Results.Json(new JsonObject
                {
                    ["ok"] = true,
                    ["url"] = "https://kennel-test.slack.com/",
                    ["team"] = "Kennel Test",
                    ["user"] = "kennel-bot",
                    ["team_id"] = "T0001",
                    ["user_id"] = "U0BOT",
                    ["bot_id"] = "B0001",
                });
            }
            if (!context.Request.ContentType!.StartsWith("application/json", StringComparison.Ordinal) || JsonNode.Parse(text) is not JsonObject body
                || body["channel"] is null)
            {
                return Results.Json(new JsonObject { ["ok"] = false, ["error"] = "invalid_arguments" });
            }
            slack.Calls.Enqueue(new ApiCall(method, body));
            if (slack.answers.TryDequeue(out var queued))
            {
                if (queued.RetryAfter is not null)
                {
                    context.Response.Headers.RetryAfter = queued.RetryAfter;
                }
                return Results.Text(queued.Body, "application/json", Encoding.UTF8, queued.Status);
            }
            var ts = $"1712345678.{Interlocked.Increment(ref slack.next):D6}";
            return Results.Json(method == "chat.postMessage"
                ? new JsonObject { ["ok"] = true, ["channel"] = body["channel"]!.DeepClone(), ["ts"] = ts }
                : new JsonObject { ["ok"] = true });
        }));
        return slack;
    }

    /// <summary>An Events API request as Slack sends it: the body, its timestamp and its v0 signature.</summary>
    public static HttpRequestMessage Event(string path, string body, DateTimeOffset at, string secret = SigningSecret, int? retry = null)
    {
        var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = "v0=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"v0:{timestamp}:{body}")));
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Slack-Request-Timestamp", timestamp);
        request.Headers.Add("X-Slack-Signature", signature);
        if (retry is { } number)
        {
            request.Headers.Add("X-Slack-Retry-Num", number.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("X-Slack-Retry-Reason", "http_timeout");
        }
        return request;
    }

    /// <summary>An <c>event_callback</c> for a message from <paramref name="user"/> in <paramref name="channel"/>, in a thread if given.</summary>
    public static string Message(string eventId, string channel, string user, string text, string ts, string? threadTs = null) => new JsonObject
    {
        ["token"] = "deprecated",
        ["team_id"] = "T0001",
        ["api_app_id"] = "A0001",
        ["type"] = "event_callback",
        ["event_id"] = eventId,
        ["event_time"] = 1712345678,
        ["event"] = new JsonObject
        {
            ["type"] = "message",
            ["channel"] = channel,
            ["user"] = user,
            ["text"] = text,
            ["ts"] = ts,
            ["thread_ts"] = threadTs,
            ["channel_type"] = "channel",
        },
    }.ToJsonString();
}
