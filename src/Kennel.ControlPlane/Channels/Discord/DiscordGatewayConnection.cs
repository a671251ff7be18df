using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kennel.ControlPlane.Config;
using Kennel.ControlPlane.Delivery;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Secrets;
using Microsoft.Extensions.Logging;
using static Kennel.ControlPlane.Channels.Discord.DiscordGatewayProtocol;

namespace Kennel.ControlPlane.Channels.Discord;

/// <summary>What every Gateway connection of this control plane shares.</summary>
public sealed record DiscordGatewayServices(
    DiscordGatewayStore Store, ChannelReceiver Receiver, ConfigService Config, SecretService Secrets, ChannelHttp Http, ChannelOptions Options,
    OutboundAddresses Addresses, TimeProvider Time, ILogger<DiscordGateways> Logger);

/// <summary>
/// One Discord channel's Gateway connection, for as long as this control plane holds its lease: Hello, then Identify
/// (or Resume, with the session's id and last sequence number, at <c>resume_gateway_url</c>), heartbeats at the
/// interval Discord gave (the first after a random part of it), each awaiting its ACK (none by the next heartbeat: the
/// connection is a zombie and is dropped and resumed). Each <c>MESSAGE_CREATE</c> goes to <see cref="ChannelReceiver"/>,
/// which takes its message id once, and only then does the sequence number move, so a Resume replays what was not
/// taken and a replay of what was is a no-op. Op 7 resumes; op 9 resumes or identifies anew as it says; a close code
/// only a person can fix (4004, 4014…) stops the connection, recorded as its error. Everything it sees is recorded in
/// <see cref="DiscordGatewayStore"/>; <c>connected</c> is written only after Discord's READY or RESUMED.
/// </summary>
internal sealed partial class DiscordGatewayConnection : IDisposable
{
    private const int MaxPayloadBytes = 16 * 1024 * 1024;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(2);

    private readonly DiscordGatewayServices services;
    private readonly DiscordGatewayChannel target;
    private readonly string owner;
    private readonly DiscordGatewayRow record;
    private readonly CancellationTokenSource held = new();
    private readonly SemaphoreSlim sending = new(1, 1);
    private string? sessionId;
    private string? resumeUrl;
    private long? sequence;
    private string? botUserId;
    private volatile bool acknowledged;

    public DiscordGatewayConnection(DiscordGatewayServices services, DiscordGatewayChannel target, string owner)
    {
        this.services = services;
        this.target = target;
        this.owner = owner;
        record = new DiscordGatewayRow { WorkspaceId = target.WorkspaceId, Channel = target.Channel.Name, ConfigVersion = target.ConfigVersion };
    }

    private long Now => services.Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Connects, and connects again (with backoff) until stopped, the lease lost, or a close code that must not reconnect.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var running = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, held.Token);
        var token = running.Token;
        var failures = 0;
        await SaveAsync(DiscordGatewayStates.Connecting, null, token);
        while (!token.IsCancellationRequested)
        {
            var wasConnected = false;
            AfterEnd next;
            string? error;
            try
            {
                (next, error, wasConnected) = await SessionAsync(token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception failure) when (failure is WebSocketException or HttpRequestException or IOException or JsonException
                or InvalidOperationException or OperationCanceledException)
            {
                (next, error) = (AfterEnd.Resume, $"the connection failed: {failure.Message}");
            }
            if (next == AfterEnd.Stop)
            {
                LogStopped(services.Logger, target.WorkspaceId, target.Channel.Name, error);
                await SaveAsync(DiscordGatewayStates.Stopped, error, CancellationToken.None);
                return;
            }
            if (next == AfterEnd.Identify)
            {
                (sessionId, resumeUrl, sequence) = (null, null, null);
            }
            failures = wasConnected ? 0 : failures + 1;
            await SaveAsync(DiscordGatewayStates.Reconnecting, error, token);
            // Discord asks for 1-5 s before identifying after an invalid session; a failure backs off up to a minute.
            var wait = failures > 0 ? TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, failures - 1)) * (0.5 + (Random.Shared.NextDouble() / 2)))
                : next == AfterEnd.Identify ? TimeSpan.FromSeconds(1 + (Random.Shared.NextDouble() * 4))
                : TimeSpan.Zero;
            await Task.Delay(wait, services.Time, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>One WebSocket connection, from the Gateway URL to its end: what may follow, why, and whether it got as far as READY or RESUMED.</summary>
    private async Task<(AfterEnd Then, string? Error, bool Connected)> SessionAsync(CancellationToken token)
    {
        var values = await ChannelSecrets.ResolveAsync(services.Secrets, target.WorkspaceId, target.Channel, token);
        if (!values.TryGetValue(Slack.SlackChannel.BotToken, out var botToken))
        {
            return (AfterEnd.Stop, "The channel's botToken cannot be read; set it again.", false);
        }
        var url = resumeUrl;
        if (url is null)
        {
            var (gateway, next, error) = await GatewayUrlAsync(botToken, token);
            if (gateway is null)
            {
                return (next, error, false);
            }
            url = gateway;
        }
        using var socket = new ClientWebSocket();
        using var invoker = new HttpMessageInvoker(services.Addresses.Handler(WebhookSender.AttemptTimeout));
        using (var connectLimit = CancellationTokenSource.CreateLinkedTokenSource(token))
        {
            connectLimit.CancelAfter(WebhookSender.AttemptTimeout);
            await socket.ConnectAsync(ConnectUrl(url), invoker, connectLimit.Token);
        }
        var connected = false;
        using var session = CancellationTokenSource.CreateLinkedTokenSource(token);
        var zombie = new Flag();
        Task heartbeats = Task.CompletedTask;
        try
        {
            var hello = await ReceiveAsync(socket, token);
            if (hello is null || Op(hello) != Hello || hello["d"]?["heartbeat_interval"] is not JsonValue interval || !interval.TryGetValue<double>(out var ms) || ms <= 0)
            {
                return (AfterEnd.Resume, "Discord did not start with Hello.", false);
            }
            acknowledged = true;
            heartbeats = HeartbeatAsync(socket, TimeSpan.FromMilliseconds(ms), zombie, session);
            await SendAsync(socket, sessionId is { } id ? ResumePayload(botToken, id, sequence) : IdentifyPayload(botToken), session.Token);
            while (true)
            {
                var payload = await ReceiveAsync(socket, session.Token);
                if (payload is null)
                {
                    var (next, why) = AfterClose((int?)socket.CloseStatus);
                    return (next, why ?? $"Discord closed the connection ({(int?)socket.CloseStatus} {socket.CloseStatusDescription})", connected);
                }
                switch (Op(payload))
                {
                    case Dispatch:
                        connected |= await DispatchAsync(payload, session.Token);
                        break;
                    case Heartbeat:
                        await SendAsync(socket, HeartbeatPayload(sequence), session.Token);
                        break;
                    case HeartbeatAck:
                        acknowledged = true;
                        record.LastAckAt = Now;
                        await SaveAsync(record.State, null, session.Token);
                        break;
                    case Reconnect:
                        return (AfterEnd.Resume, null, true);
                    case InvalidSession:
                        var resumable = payload["d"] is JsonValue d && d.TryGetValue<bool>(out var canResume) && canResume;
                        return (resumable ? AfterEnd.Resume : AfterEnd.Identify, null, connected);
                }
            }
        }
        catch (Exception failure) when (failure is OperationCanceledException or WebSocketException && zombie.Value && !token.IsCancellationRequested)
        {
            return (AfterEnd.Resume, "Discord did not acknowledge a heartbeat before the next one was due.", connected);
        }
        finally
        {
            await session.CancelAsync();
            await heartbeats.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await CloseAsync(socket, resumable: !token.IsCancellationRequested);
        }
    }

    /// <summary>READY and RESUMED start the session (true); MESSAGE_CREATE goes to the agent; the sequence moves once an event is handled.</summary>
    private async Task<bool> DispatchAsync(JsonObject payload, CancellationToken token)
    {
        var data = payload["d"] as JsonObject;
        var started = false;
        switch (DiscordChannel.Text(payload, "t"))
        {
            case "READY":
                sessionId = DiscordChannel.Text(data, "session_id");
                resumeUrl = DiscordChannel.Text(data, "resume_gateway_url");
                botUserId = DiscordChannel.Text(data?["user"] as JsonObject, "id");
                started = true;
                break;
            case "RESUMED":
                started = true;
                break;
            case "MESSAGE_CREATE" when DiscordGatewayProtocol.Message(data, botUserId) is InboundEvent.Message message:
                // The channel is read anew for each message, so an allow-list changed a moment ago applies.
                var channel = ChannelConfig.Find(await services.Config.DocumentAsync(target.WorkspaceId, token), target.Channel.Name);
                if (channel?.Kind == DiscordChannel.KindName)
                {
                    await services.Receiver.AcceptAsync(target.WorkspaceId, channel, message, token);
                }
                break;
        }
        if (payload["s"] is JsonValue s && s.TryGetValue<long>(out var number))
        {
            sequence = number;
        }
        var now = Now;
        record.LastEventAt = now;
        if (started)
        {
            record.ConnectedAt = now;
            record.LastError = null;
            record.LastErrorAt = null;
        }
        await SaveAsync(started ? DiscordGatewayStates.Connected : record.State, null, token);
        return started;
    }

    /// <summary>Heartbeats until the session ends; a heartbeat not acknowledged by the next one marks the connection a zombie and ends it.</summary>
    private async Task HeartbeatAsync(ClientWebSocket socket, TimeSpan interval, Flag zombie, CancellationTokenSource session)
    {
        var token = session.Token;
        await Task.Delay(interval * Random.Shared.NextDouble(), services.Time, token);
        while (!token.IsCancellationRequested)
        {
            if (!acknowledged)
            {
                zombie.Value = true;
                await session.CancelAsync();
                return;
            }
            acknowledged = false;
            await SendAsync(socket, HeartbeatPayload(sequence), token);
            await Task.Delay(interval, services.Time, token);
        }
    }

    /// <summary>The Gateway's URL from <c>GET /gateway/bot</c>; a token Discord refuses stops the connection.</summary>
    private async Task<(string? Url, AfterEnd Then, string? Error)> GatewayUrlAsync(string botToken, CancellationToken token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(services.Options.DiscordApiUrl, "gateway/bot"));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bot", botToken);
        return await services.Http.CallAsync<(string?, AfterEnd, string?)>(request, async (response, readToken) =>
        {
            var answer = await DiscordChannel.ReadAsync(response, readToken);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode && DiscordChannel.Text(answer, "url") is { } url)
            {
                return (url, AfterEnd.Resume, null);
            }
            var error = $"GET /gateway/bot: HTTP {status}: Discord: {DiscordChannel.Text(answer, "message") ?? "an answer that is not Discord's JSON"}";
            return (null, status is 401 or 403 ? AfterEnd.Stop : AfterEnd.Resume, error);
        }, failure => (null, AfterEnd.Resume, $"GET /gateway/bot: {DeliveryAttempt.FromFailure(failure, WebhookSender.AttemptTimeout).Error}"), token);
    }

    /// <summary>One whole payload, or null when Discord closed the connection.</summary>
    private static async Task<JsonObject?> ReceiveAsync(ClientWebSocket socket, CancellationToken token)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            if (message.Length + received.Count > MaxPayloadBytes)
            {
                throw new InvalidOperationException($"A Gateway payload is larger than {MaxPayloadBytes} bytes.");
            }
            message.Write(buffer, 0, received.Count);
            if (received.EndOfMessage)
            {
                return JsonNode.Parse(message.ToArray()) as JsonObject ?? throw new JsonException("A Gateway payload that is not a JSON object.");
            }
        }
    }

    private async Task SendAsync(ClientWebSocket socket, string payload, CancellationToken token)
    {
        await sending.WaitAsync(token);
        try
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(payload), WebSocketMessageType.Text, true, token);
        }
        finally
        {
            sending.Release();
        }
    }

    /// <summary>
    /// Ends the connection. A connection to resume is closed with 4000, which keeps the session resumable (1000 would
    /// end it); one this process stops is closed with 1000.
    /// </summary>
    private static async Task CloseAsync(ClientWebSocket socket, bool resumable)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            socket.Abort();
            return;
        }
        using var limit = new CancellationTokenSource(CloseWait);
        try
        {
            await socket.CloseOutputAsync(resumable ? (WebSocketCloseStatus)4000 : WebSocketCloseStatus.NormalClosure, null, limit.Token);
        }
        catch (Exception failure) when (failure is WebSocketException or OperationCanceledException or IOException)
        {
            socket.Abort();
        }
    }

    /// <summary>Records the connection's state; a lost lease (another control plane took over) ends this connection.</summary>
    private async Task SaveAsync(string state, string? error, CancellationToken token)
    {
        record.State = state;
        if (error is not null)
        {
            (record.LastError, record.LastErrorAt) = (error, Now);
        }
        if (!await services.Store.RecordAsync(record, owner, token))
        {
            await held.CancelAsync();
        }
    }

    public void Dispose()
    {
        held.Dispose();
        sending.Dispose();
    }

    private static int? Op(JsonObject payload) => payload["op"] is JsonValue op && op.TryGetValue<int>(out var number) ? number : null;

    private sealed class Flag
    {
        public volatile bool Value;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Discord Gateway connection of workspace {Workspace}, channel {Channel}, stopped: {Error}")]
    private static partial void LogStopped(ILogger logger, string workspace, string channel, string? error);
}
