using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kennel.Tests.Channels;

/// <summary>
/// Discord on loopback, in its wire format. REST API v10 under <c>/api/v10/</c> with <c>Authorization: Bot TOKEN</c>
/// (a wrong one is a 401 with Discord's JSON): <c>GET /gateway/bot</c>, <c>GET /users/@me</c>, create message, add
/// reaction, pin; answers a test queued (a 429 with <c>retry_after</c>, a 500) come first. A Gateway WebSocket
/// (<c>?v=10&amp;encoding=json</c>): Hello, Identify (a wrong token closes 4004, no Message Content intent 4014), READY
/// with a session id and a <c>resume_gateway_url</c>, heartbeats ACKed (unless withheld), Resume replaying the session's
/// dispatches after the given sequence number (less <see cref="ReplayOverlap"/>, to replay some already seen) then
/// RESUMED, an unknown session answered with op 9. The test drives it: dispatch a message, drop the connection, send
/// op 7 or op 9.
/// </summary>
public sealed class FakeDiscord : IAsyncDisposable
{
    public const string Token = "MTAwMDAw.fake.discord-bot-token";
    public const string BotUserId = "1000000000000000001";

    private readonly WebApplication app;
    private readonly ConcurrentQueue<(int Status, Dictionary<string, string> Headers, string Body)> answers = new();
    private readonly List<(long Seq, string Payload)> events = [];
    private readonly Lock gate = new();
    private Connection? current;
    private string? sessionId;
    private long seq;
    private long nextId = 1_200_000_000_000_000_000;
    private int open;

    private FakeDiscord(WebApplication app, Uri url)
    {
        this.app = app;
        ApiUrl = url;
    }

    /// <summary>The REST API's base URL, as <c>KENNEL_DISCORD_API_URL</c> takes it.</summary>
    public Uri ApiUrl { get; }

    public int HeartbeatIntervalMs { get; set; } = 1000;
    public bool WithholdAcks { get; set; }

    /// <summary>A close code to answer the next Identify with (4004 as if the token were reset, 4014…), whatever it carries.</summary>
    public int? CloseNextIdentify { get; set; }

    public int ReplayOverlap { get; set; }

    public sealed record ApiCall(string Method, string Path, JsonObject? Body);

    /// <summary>Every REST call with the right token, in order.</summary>
    public ConcurrentQueue<ApiCall> Calls { get; } = new();

    /// <summary>Every payload clients sent on the Gateway, with the path they connected to.</summary>
    public ConcurrentQueue<(string Path, JsonObject Payload)> Sent { get; } = new();

    public int Connections { get; private set; }
    public int MaxOpen { get; private set; }

    public IReadOnlyList<JsonObject> Identifies => [.. Sent.Where(s => Op(s.Payload) == 2).Select(s => s.Payload)];
    public IReadOnlyList<(string Path, JsonObject Payload)> Resumes => [.. Sent.Where(s => Op(s.Payload) == 6)];
    public IReadOnlyList<JsonObject> Heartbeats => [.. Sent.Where(s => Op(s.Payload) == 1).Select(s => s.Payload)];
    public string? SessionId => sessionId;

    public void ThenAnswer(int status, string body, params (string Name, string Value)[] headers) =>
        answers.Enqueue((status, headers.ToDictionary(h => h.Name, h => h.Value), body));

    public static async Task<FakeDiscord> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseWebSockets();
        FakeDiscord? discord = null;
        app.Map("/api/v10/{**path}", (HttpContext context, string path) => discord!.RestAsync(context, path));
        app.Map("/gateway", (HttpContext context) => discord!.GatewayAsync(context));
        app.Map("/resume", (HttpContext context) => discord!.GatewayAsync(context));
        await app.StartAsync();
        discord = new FakeDiscord(app, new Uri($"http://127.0.0.1:{new Uri(app.Urls.Single()).Port}/api/v10/"));
        return discord;
    }

    private string Base => $"127.0.0.1:{ApiUrl.Port}";

    private async Task<IResult> RestAsync(HttpContext context, string path)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();
        if (context.Request.Headers.Authorization.ToString() != $"Bot {Token}")
        {
            return Results.Json(new JsonObject { ["message"] = "401: Unauthorized", ["code"] = 0 }, statusCode: 401);
        }
        var method = context.Request.Method;
        if (method == "GET" && path == "gateway/bot")
        {
            return Results.Json(new JsonObject
            {
                ["url"] = $"ws://{Base}/gateway",
                ["shards"] = 1,
                ["session_start_limit"] = new JsonObject { ["total"] = 1000, ["remaining"] = 999, ["reset_after"] = 0, ["max_concurrency"] = 1 },
            });
        }
        if (method == "GET" && path == "users/@me")
        {
            return Results.Json(new JsonObject { ["id"] = BotUserId, ["username"] = "kennel-bot", ["discriminator"] = "0", ["bot"] = true });
        }
        var body = text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null;
        var parts = path.Split('/');
        var known = (method, parts) switch
        {
            ("POST", ["channels", _, "messages"]) => body?["content"] is not null,
            ("PUT", ["channels", _, "messages", _, "reactions", _, "@me"]) => true,
            ("PUT", ["channels", _, "pins", _]) => true,
            _ => false,
        };
        if (!known)
        {
            return Results.Json(new JsonObject { ["message"] = "404: Not Found", ["code"] = 0 }, statusCode: 404);
        }
        Calls.Enqueue(new ApiCall(method, path, body));
        if (answers.TryDequeue(out var queued))
        {
            foreach (var (name, value) in queued.Headers)
            {
                context.Response.Headers[name] = value;
            }
            return Results.Text(queued.Body, "application/json", Encoding.UTF8, queued.Status);
        }
        if (method == "PUT")
        {
            return Results.NoContent();
        }
        return Results.Json(new JsonObject
        {
            ["id"] = Interlocked.Increment(ref nextId).ToString(CultureInfo.InvariantCulture),
            ["channel_id"] = parts[1],
            ["content"] = body!["content"]!.DeepClone(),
            ["author"] = new JsonObject { ["id"] = BotUserId, ["username"] = "kennel-bot", ["bot"] = true },
        });
    }

    private sealed class Connection(HttpContext context, WebSocket socket, string path)
    {
        public HttpContext Context { get; } = context;
        public WebSocket Socket { get; } = socket;
        public string Path { get; } = path;
        public SemaphoreSlim Sending { get; } = new(1, 1);
    }

    private async Task GatewayAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest || context.Request.Query["v"] != "10" || context.Request.Query["encoding"] != "json")
        {
            context.Response.StatusCode = 400;
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var connection = new Connection(context, socket, context.Request.Path);
        lock (gate)
        {
            current = connection;
            Connections++;
            MaxOpen = Math.Max(MaxOpen, ++open);
        }
        try
        {
            await SendAsync(connection, new JsonObject { ["op"] = 10, ["d"] = new JsonObject { ["heartbeat_interval"] = HeartbeatIntervalMs } }.ToJsonString());
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                var payload = (JsonObject)JsonNode.Parse(buffer.AsSpan(0, received.Count))!;
                Sent.Enqueue((connection.Path, payload));
                switch (Op(payload))
                {
                    case 1 when !WithholdAcks:
                        await SendAsync(connection, """{"op":11}""");
                        break;
                    case 2:
                        await IdentifyAsync(connection, (JsonObject)payload["d"]!);
                        break;
                    case 6:
                        await ResumeAsync(connection, (JsonObject)payload["d"]!);
                        break;
                }
            }
        }
        catch (WebSocketException)
        {
            // the client went away without a close frame (or was dropped)
        }
        catch (OperationCanceledException)
        {
            // the fake is stopping
        }
        finally
        {
            lock (gate)
            {
                open--;
                if (current == connection)
                {
                    current = null;
                }
            }
        }
    }

    private async Task IdentifyAsync(Connection connection, JsonObject data)
    {
        var intents = data["intents"]!.GetValue<int>();
        var close = CloseNextIdentify is { } code ? code
            : data["token"]?.GetValue<string>() != Token ? 4004
            : (intents & (1 << 15)) == 0 ? 4014
            : (int?)null;
        CloseNextIdentify = null;
        if (close is { } refused)
        {
            await connection.Socket.CloseAsync((WebSocketCloseStatus)refused, refused == 4004 ? "Authentication failed." : "Disallowed intent(s).", CancellationToken.None);
            return;
        }
        string ready;
        lock (gate)
        {
            sessionId = Guid.NewGuid().ToString("N");
            events.Clear();
            seq = 1;
            ready = new JsonObject
            {
                ["op"] = 0,
                ["t"] = "READY",
                ["s"] = seq,
                ["d"] = new JsonObject
                {
                    ["v"] = 10,
                    ["user"] = new JsonObject { ["id"] = BotUserId, ["username"] = "kennel-bot", ["bot"] = true },
                    ["guilds"] = new JsonArray(),
                    ["session_id"] = sessionId,
                    ["resume_gateway_url"] = $"ws://{Base}/resume",
                },
            }.ToJsonString();
        }
        await SendAsync(connection, ready);
    }

    private async Task ResumeAsync(Connection connection, JsonObject data)
    {
        List<string> replay;
        string? resumed = null;
        lock (gate)
        {
            if (data["token"]?.GetValue<string>() != Token || data["session_id"]?.GetValue<string>() != sessionId)
            {
                replay = ["""{"op":9,"d":false}"""];
            }
            else
            {
                var after = (data["seq"]?.GetValue<long>() ?? 0) - ReplayOverlap;
                replay = [.. events.Where(e => e.Seq > after).Select(e => e.Payload)];
                resumed = new JsonObject { ["op"] = 0, ["t"] = "RESUMED", ["s"] = ++seq, ["d"] = new JsonObject() }.ToJsonString();
            }
        }
        foreach (var payload in replay)
        {
            await SendAsync(connection, payload);
        }
        if (resumed is not null)
        {
            await SendAsync(connection, resumed);
        }
    }

    /// <summary>A MESSAGE_CREATE from <paramref name="author"/> in <paramref name="channel"/>: sent now if connected, replayed on a Resume; returns its id.</summary>
    public async Task<string> DispatchMessageAsync(string channel, string author, string content, bool bot = false)
    {
        var id = Interlocked.Increment(ref nextId).ToString(CultureInfo.InvariantCulture);
        string payload;
        Connection? to;
        lock (gate)
        {
            payload = new JsonObject
            {
                ["op"] = 0,
                ["t"] = "MESSAGE_CREATE",
                ["s"] = ++seq,
                ["d"] = new JsonObject
                {
                    ["id"] = id,
                    ["channel_id"] = channel,
                    ["guild_id"] = "900000000000000001",
                    ["author"] = new JsonObject { ["id"] = author, ["username"] = $"user-{author}", ["bot"] = bot },
                    ["content"] = content,
                    ["type"] = 0,
                    ["timestamp"] = "2026-12-08T00:00:00.000000+00:00",
                },
            }.ToJsonString();
            events.Add((seq, payload));
            to = current;
        }
        if (to is { Socket.State: WebSocketState.Open })
        {
            await SendAsync(to, payload);
        }
        return id;
    }

    /// <summary>Drops the connection without a close frame, as a network failure does.</summary>
    public void Drop()
    {
        Connection? connection;
        lock (gate)
        {
            connection = current;
        }
        connection?.Context.Abort();
    }

    public Task SendReconnectAsync() => SendAsync(current!, """{"op":7,"d":null}""");

    public Task SendInvalidSessionAsync(bool resumable) => SendAsync(current!, resumable ? """{"op":9,"d":true}""" : """{"op":9,"d":false}""");

    /// <summary>Whether a client is connected now.</summary>
    public bool IsOpen
    {
        get
        {
            lock (gate)
            {
                return open > 0;
            }
        }
    }

    private static async Task SendAsync(Connection connection, string payload)
    {
        await connection.Sending.WaitAsync();
        try
        {
            await connection.Socket.SendAsync(Encoding.UTF8.GetBytes(payload), WebSocketMessageType.Text, true, CancellationToken.None);
        }
        catch (WebSocketException)
        {
            // the connection is gone; a Resume replays what it missed
        }
        finally
        {
            connection.Sending.Release();
        }
    }

    private static int? Op(JsonObject payload) => payload["op"]?.GetValue<int>();

    /// <summary>Waits until <paramref name="done"/> holds; fails after a minute.</summary>
    public static async Task UntilAsync(Func<bool> done)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!done())
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Drop();
        await app.DisposeAsync();
    }
}
