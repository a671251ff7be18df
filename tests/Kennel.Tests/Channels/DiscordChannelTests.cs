using System.Net;
using System.Net.Http.Json;
using Kennel.Agents.Providers;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Channels;
using Kennel.ControlPlane.Channels;
using Kennel.Testing;
using Kennel.Tests.Config;

namespace Kennel.Tests.Channels;

/// <summary>
/// A Discord channel in a real control plane: messages arrive through a Gateway WebSocket that a local Discord speaks
/// (Hello, heartbeats, Identify, Resume, op 7 and op 9, close codes), the agent answers through a scripted provider, and
/// the answer is created through the local REST API, which checks the bot token as Discord does.
/// </summary>
public sealed class DiscordChannelTests : IAsyncLifetime
{
    private const string Person = "300000000000000001";
    private const string Stranger = "300000000000000666";
    private const string Room = "400000000000000001";
    private const string OpenRoom = "400000000000000002";

    private ScriptedProvider model = null!;
    private FakeDiscord discord = null!;

    public async Task InitializeAsync()
    {
        model = await ScriptedProvider.StartAsync();
        discord = await FakeDiscord.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await discord.DisposeAsync();
        await model.DisposeAsync();
    }

    private Func<ControlPlane.Hosting.KennelSettings, ControlPlane.Hosting.KennelSettings> Settings(TimeProvider? clock = null) => s => s with
    {
        Time = clock ?? TimeProvider.System,
        EmbeddedWorker = false,
        Outbound = ControlPlane.Http.OutboundAddresses.Parse("127.0.0.1/32", out _)!,
        Providers = [new ProviderSettings("openai", ProviderKind.OpenAI, new Uri(model.Url, "v1"), "sk-test-discord")],
        Channels = new ChannelOptions { DiscordApiUrl = discord.ApiUrl, GatewayLease = TimeSpan.FromSeconds(3) },
    };

    private Task<TestServer> StartAsync(string store, TimeProvider? clock = null) => TestServer.StartAsync(store, Settings(clock));

    /// <summary>Configures the Discord channel <c>team</c>: <see cref="Person"/> and everyone in <see cref="OpenRoom"/> may talk to the agent.</summary>
    private static Task<Contracts.Config.ConfigWrite> AddChannelAsync(HttpClient client, string token = FakeDiscord.Token) => client.SetConfigOkAsync("channels.team",
        $$"""{"kind": "discord", "allow": ["{{Person}}", "{{OpenRoom}}"], "botToken": "{{token}}"}""");

    private static async Task<ChannelStatus> StatusAsync(HttpClient client) => (await client.ChannelStatusAsync()).Channels.Single(c => c.Name == "team");

    private static Task<ChannelStatus> GatewayAsync(HttpClient client, string state) =>
        ChannelApi.EventuallyAsync(() => StatusAsync(client), status => status.Gateway?.State == state);

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_message_through_the_gateway_is_answered_in_the_same_channel_and_strangers_and_bots_are_ignored(string store)
    {
        await using var server = await StartAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        await AddChannelAsync(client);

        var status = await GatewayAsync(client, "connected");
        status.Gateway!.ConnectedSince.ShouldNotBeNull();
        var identify = discord.Identifies.Single()["d"]!;
        identify["token"]!.GetValue<string>().ShouldBe(FakeDiscord.Token);
        identify["intents"]!.GetValue<int>().ShouldBe((1 << 9) | (1 << 12) | (1 << 15));
        // Heartbeats carry the last sequence number and are acknowledged: the status shows the last ACK.
        status = await ChannelApi.EventuallyAsync(() => StatusAsync(client), s => s.Gateway!.LastHeartbeatAckAt is not null);
        discord.Heartbeats[0]["d"]!.GetValue<long>().ShouldBe(1);

        model.ThenEvents(ModelScript.Answer("The build is green."));
        var asked = await discord.DispatchMessageAsync(Room, Person, "how is the build?");
        await FakeDiscord.UntilAsync(() => !discord.Calls.IsEmpty);
        var answer = discord.Calls.Single();
        (answer.Method, answer.Path).ShouldBe(("POST", $"channels/{Room}/messages"));
        answer.Body!["content"]!.GetValue<string>().ShouldBe("The build is green.");

        // The bot's own answer comes back through the Gateway, as every message does; a stranger writes; someone in the
        // open room writes: only the last reaches the agent.
        await discord.DispatchMessageAsync(Room, FakeDiscord.BotUserId, "The build is green.", bot: true);
        await discord.DispatchMessageAsync(Room, Stranger, "do my bidding");
        model.ThenEvents(ModelScript.Answer("Hello, room."));
        await discord.DispatchMessageAsync(OpenRoom, Stranger, "hi all");
        await FakeDiscord.UntilAsync(() => discord.Calls.Count == 2);
        discord.Calls.Last().Path.ShouldBe($"channels/{OpenRoom}/messages");

        var history = await ChannelApi.EventuallyAsync(() => client.ChannelHistoryAsync(), page => page.Items.Count(m => m.Status == "sent") == 2);
        history.Items.Where(m => m.Direction == "in").Select(m => (m.Chat, m.Sender, m.PlatformMessageId))
            .ShouldBe([(OpenRoom, Stranger, history.Items[1].PlatformMessageId), (Room, Person, asked)]);
        (await client.ListRunsAsync()).Items.Count.ShouldBe(2);
        status = await StatusAsync(client);
        (status.Health, status.Received, status.Ignored, status.Sent, status.LastIgnoredSender).ShouldBe(("ok", 2L, 1L, 2L, Stranger));
        status.Gateway!.LastEventAt.ShouldNotBeNull();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_dropped_connection_resumes_its_session_and_events_replayed_are_processed_once(string store)
    {
        await using var server = await StartAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        await AddChannelAsync(client);
        await GatewayAsync(client, "connected");
        var session = discord.SessionId;

        model.ThenEvents(ModelScript.Answer("first answer"));
        await discord.DispatchMessageAsync(Room, Person, "first");
        await FakeDiscord.UntilAsync(() => discord.Calls.Count == 1);

        // The network fails; a message is sent meanwhile. On Resume, Discord replays from one event before the
        // sequence number given, so the first message comes again: it is taken once.
        discord.ReplayOverlap = 1;
        discord.Drop();
        model.ThenEvents(ModelScript.Answer("second answer"));
        await discord.DispatchMessageAsync(Room, Person, "second");
        await FakeDiscord.UntilAsync(() => discord.Calls.Count == 2);
        var resume = discord.Resumes.Single();
        resume.Path.ShouldBe("/resume");
        resume.Payload["d"]!["session_id"]!.GetValue<string>().ShouldBe(session);
        resume.Payload["d"]!["seq"]!.GetValue<long>().ShouldBe(2);
        discord.Identifies.Count.ShouldBe(1);
        discord.Calls.Select(c => c.Body!["content"]!.GetValue<string>()).ShouldBe(["first answer", "second answer"]);
        await GatewayAsync(client, "connected");
        (await client.ListRunsAsync()).Items.Count.ShouldBe(2);
        model.Requests.Count.ShouldBe(2);
        (await StatusAsync(client)).Received.ShouldBe(2);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Reconnect_invalid_session_and_a_missed_heartbeat_ack_each_lead_to_the_right_reconnection(string store)
    {
        await using var server = await StartAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        await AddChannelAsync(client);
        await GatewayAsync(client, "connected");

        // Op 7: reconnect and resume.
        await discord.SendReconnectAsync();
        await FakeDiscord.UntilAsync(() => discord.Resumes.Count == 1 && discord.IsOpen);
        await GatewayAsync(client, "connected");

        // Op 9, resumable: resume again. Op 9, not resumable: identify anew, with a new session.
        var first = discord.SessionId;
        await discord.SendInvalidSessionAsync(resumable: true);
        await FakeDiscord.UntilAsync(() => discord.Resumes.Count == 2);
        await discord.SendInvalidSessionAsync(resumable: false);
        await FakeDiscord.UntilAsync(() => discord.Identifies.Count == 2 && discord.SessionId != first);

        // Discord stops acknowledging: the next heartbeat finds the last one unanswered, and the connection is resumed.
        await FakeDiscord.UntilAsync(() => discord.IsOpen && discord.Heartbeats.Count > 0);
        var resumes = discord.Resumes.Count;
        discord.WithholdAcks = true;
        await FakeDiscord.UntilAsync(() => discord.Resumes.Count > resumes);
        discord.WithholdAcks = false;
        var status = await ChannelApi.EventuallyAsync(() => StatusAsync(client), s => s.Gateway!.State == "connected" && s.Gateway.Error is null);
        status.Gateway!.LastHeartbeatAckAt.ShouldNotBeNull();
        discord.MaxOpen.ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Authentication_failed_and_disallowed_intents_are_recorded_and_not_retried_until_the_config_changes(string store)
    {
        await using var server = await StartAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);

        // The token was reset between GET /gateway/bot and Identify: 4004.
        discord.CloseNextIdentify = 4004;
        await AddChannelAsync(client);
        var status = await GatewayAsync(client, "stopped");
        status.Health.ShouldBe("failing");
        status.Gateway!.Error!.ShouldStartWith("4004 Authentication failed");
        status.Evidence.ShouldContain("4004 Authentication failed");
        status.Gateway.ConnectedSince.ShouldBeNull();
        // Several looks of the gateway service (a second each here) go by: it does not connect again.
        await Task.Delay(TimeSpan.FromSeconds(3));
        discord.Connections.ShouldBe(1);

        // A changed config (the token set again) connects again; this time the intents are refused: 4014.
        discord.CloseNextIdentify = 4014;
        await AddChannelAsync(client);
        status = await ChannelApi.EventuallyAsync(() => StatusAsync(client), s => s.Gateway!.Error?.StartsWith("4014", StringComparison.Ordinal) == true);
        (status.Gateway!.State, status.Health).ShouldBe(("stopped", "failing"));
        status.Gateway.Error!.ShouldContain("Message Content intent");
        discord.Connections.ShouldBe(2);

        await AddChannelAsync(client);
        status = await GatewayAsync(client, "connected");
        status.Health.ShouldBe("no_traffic");
        status.Gateway!.Error.ShouldBeNull();

        // A token Discord refuses outright is refused by GET /gateway/bot already, and recorded the same way.
        await AddChannelAsync(client, "revoked-token");
        status = await GatewayAsync(client, "stopped");
        status.Gateway!.Error.ShouldBe("GET /gateway/bot: HTTP 401: Discord: 401: Unauthorized");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Sends_replies_reactions_and_pins_honour_429_and_a_send_that_keeps_failing_is_recorded(string store)
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(store, clock);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        await AddChannelAsync(client);

        discord.ThenAnswer(429, """{"message": "You are being rate limited.", "retry_after": 2.5, "global": false}""",
            ("Retry-After", "3"), ("X-RateLimit-Reset-After", "2.500"), ("X-RateLimit-Limit", "5"), ("X-RateLimit-Remaining", "0"));
        var limited = await client.ActAsync(new() { Channel = "team", Action = "send", Chat = Room, Message = "500000000000000001", Text = "deploy started" });
        limited.Status.ShouldBe("pending");
        limited.Error.ShouldBe("HTTP 429: Discord: You are being rate limited.");
        clock.Advance(TimeSpan.FromSeconds(4));
        var sent = await ChannelApi.EventuallyAsync(() => client.ChannelHistoryAsync(), page => page.Items.Single().Status == "sent");
        sent.Items.Single().Attempts.ShouldBe(2);
        var reply = discord.Calls.Last();
        reply.Path.ShouldBe($"channels/{Room}/messages");
        reply.Body!["message_reference"]!["message_id"]!.GetValue<string>().ShouldBe("500000000000000001");
        var messageId = sent.Items.Single().PlatformMessageId!;

        (await client.ActAsync(new() { Channel = "team", Action = "react", Chat = Room, Message = messageId, Emoji = "👍" })).Status.ShouldBe("sent");
        discord.Calls.Last().Path.ShouldBe($"channels/{Room}/messages/{messageId}/reactions/👍/@me");
        (await client.ActAsync(new() { Channel = "team", Action = "pin", Chat = Room, Message = messageId })).PlatformMessageId.ShouldBe(messageId);
        discord.Calls.Last().Path.ShouldBe($"channels/{Room}/pins/{messageId}");

        discord.ThenAnswer(429, """{"message": "You are being rate limited.", "retry_after": 1.2, "global": true}""", ("X-RateLimit-Global", "true"));
        for (var i = 1; i < ControlPlane.Delivery.DeliveryRetries.MaxAttempts; i++)
        {
            discord.ThenAnswer(502, """{"message": "Bad Gateway", "code": 0}""");
        }
        var failing = await client.ActAsync(new() { Channel = "team", Action = "send", Chat = Room, Text = "are you there?" });
        (failing.Status, failing.Error).ShouldBe(("pending", "HTTP 429: Discord: You are being rate limited. (the bot's global rate limit)"));
        var calls = discord.Calls.Count;
        for (var attempt = 2; attempt <= ControlPlane.Delivery.DeliveryRetries.MaxAttempts; attempt++)
        {
            clock.Advance(TimeSpan.FromHours(1));
            await FakeDiscord.UntilAsync(() => discord.Calls.Count == calls + attempt - 1);
            await ChannelApi.EventuallyAsync(() => client.ChannelHistoryAsync("?direction=out&limit=1"),
                page => page.Items[0].Status == "failed" || page.Items[0].NextAttemptAt > clock.GetUtcNow());
        }
        var history = await ChannelApi.EventuallyAsync(() => client.ChannelHistoryAsync("?direction=out&limit=1"), page => page.Items[0].Status == "failed");
        history.Items[0].Error.ShouldBe("gave up after 6 attempts; the last: HTTP 502: Discord: Bad Gateway");
        var status = await StatusAsync(client);
        (status.Health, status.Sent, status.Failed, status.Pending).ShouldBe(("failing", 3L, 1L, 0L));
        status.LastError.ShouldBe(history.Items[0].Error);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_probe_shows_what_Discord_answers_users_me_and_another_workspace_sees_nothing(string store)
    {
        await using var server = await StartAsync(store);
        using var a = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        using var b = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        await AddChannelAsync(a);
        await a.SetConfigOkAsync("channels.stale", """{"kind": "discord", "botToken": "revoked-token"}""");
        await a.SetConfigOkAsync("channels.half", """{"kind": "discord"}""");

        var statuses = (await a.GetFromJsonAsync("/v1/channels?probe=true", Contracts.KennelJson.Default.ChannelStatusList))!.Channels.ToDictionary(s => s.Name);
        statuses["team"].Probe.ShouldBe(new ChannelProbe(true, $"users/@me: bot user kennel-bot ({FakeDiscord.BotUserId})."));
        statuses["stale"].Probe.ShouldBe(new ChannelProbe(false, "users/@me: Discord: HTTP 401: 401: Unauthorized"));
        statuses["half"].Missing.ShouldBe(["botToken"]);
        statuses["half"].Probe!.Ok.ShouldBeFalse();

        model.ThenEvents(ModelScript.Answer("hi A"));
        await GatewayAsync(a, "connected");
        await discord.DispatchMessageAsync(Room, Person, "hello");
        await ChannelApi.EventuallyAsync(() => a.ChannelHistoryAsync(), page => page.Items.Any(m => m.Status == "sent"));

        (await b.ChannelStatusAsync()).Channels.ShouldBeEmpty();
        (await b.ChannelHistoryAsync("?q=hello")).Items.ShouldBeEmpty();
        (await b.ListRunsAsync()).Items.ShouldBeEmpty();
        using var act = await b.PostAsync("/v1/channels/actions", new StringContent($$"""{"channel":"team","chat":"{{Room}}","text":"x"}""",
            System.Text.Encoding.UTF8, "application/json"));
        act.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        discord.Calls.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Two_control_planes_on_one_postgres_hold_one_gateway_connection_and_the_second_takes_over_when_the_first_stops()
    {
        var database = await TestStore.CreateDatabaseAsync();
        var dataDir = Directory.CreateTempSubdirectory("kennel-test-discord-replicas-");
        try
        {
            await using var second = await TestServer.StartAsync(TestStore.Postgres, Settings(), dataDir.FullName, database);
            using var viaSecond = second.Client();
            await using (var first = await TestServer.StartAsync(TestStore.Postgres, Settings(), dataDir.FullName, database))
            {
                await AddChannelAsync(viaSecond);
                await GatewayAsync(viaSecond, "connected");
                // Both have looked several times (a second apart here), each renewing or failing to take the lease.
                await Task.Delay(TimeSpan.FromSeconds(4));
                (discord.MaxOpen, discord.Connections).ShouldBe((1, 1));
            }
            // Whichever held it, the connection is up after the first stops, and never two at once.
            await FakeDiscord.UntilAsync(() => discord.IsOpen && discord.Heartbeats.Count > 0);
            model.ThenEvents(ModelScript.Answer("still here"));
            await discord.DispatchMessageAsync(Room, Person, "anyone?");
            await FakeDiscord.UntilAsync(() => discord.Calls.Count == 1);
            discord.MaxOpen.ShouldBe(1);
        }
        finally
        {
            await TestStore.DropDatabaseAsync(database);
            dataDir.Delete(recursive: true);
        }
    }
}
