using System.Net;
using System.Net.Http.Json;
using Kennel.Agents.Providers;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Channels;
using Kennel.ControlPlane.Channels;
using Kennel.Testing;
using Kennel.Tests.Config;

namespace Kennel.Tests.Channels;

/// <summary>
/// A Telegram channel in a real control plane: its webhook registered with a local Bot API that answers in Telegram's
/// wire format, updates delivered over real HTTP with the secret token header, the agent answering through a scripted
/// provider, and the answer sent back with <c>sendMessage</c> into the same chat and forum topic.
/// </summary>
public sealed class TelegramChannelTests : IAsyncLifetime
{
    private const string Kennel = "https://kennel.example.com";
    private ScriptedProvider model = null!;
    private FakeTelegram telegram = null!;

    public async Task InitializeAsync()
    {
        model = await ScriptedProvider.StartAsync();
        telegram = await FakeTelegram.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await model.DisposeAsync();
        await telegram.DisposeAsync();
    }

    private Task<TestServer> StartAsync(string store, TimeProvider? clock = null, string? externalUrl = Kennel) =>
        ChannelApi.StartServerAsync(store, model, new ChannelOptions { TelegramApiUrl = telegram.ApiUrl, ExternalUrl = externalUrl }, clock);

    /// <summary>Configures the Telegram channel <c>tg</c>, allowing <paramref name="allow"/>; returns its inbound path.</summary>
    private static async Task<string> AddChannelAsync(HttpClient client, params string[] allow)
    {
        await client.SetConfigOkAsync("channels.tg", $$"""
            {"kind": "telegram", "allow": [{{string.Join(", ", allow.Select(a => $"\"{a}\""))}}],
             "botToken": "{{FakeTelegram.Token}}", "secretToken": "{{FakeTelegram.SecretToken}}"}
            """);
        return (await client.ChannelStatusAsync()).Channels.Single().InboundPath;
    }

    private static async Task<(HttpStatusCode Status, string Body)> RegisterAsync(HttpClient client, string channel, string? url = null)
    {
        using var response = await client.PostAsJsonAsync($"/v1/channels/{channel}/register", new RegisterChannelRequest { Url = url },
            KennelJson.Default.RegisterChannelRequest);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_message_in_a_forum_topic_is_answered_in_that_topic_once_even_when_Telegram_delivers_the_update_again(string store)
    {
        await using var server = await StartAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        var path = await AddChannelAsync(client, "-1001234567890");
        var status = (await client.ChannelStatusAsync()).Channels.Single();
        (status.Health, status.Registration).ShouldBe(("no_traffic", null));
        status.Evidence.ShouldContain("kennel channels register tg");

        // Registering points the bot's webhook at the inbound URL, with the secret token and message updates only.
        var (registered, answer) = await RegisterAsync(client, "tg");
        registered.ShouldBe(HttpStatusCode.OK, answer);
        var setWebhook = telegram.Calls.Single();
        setWebhook.Method.ShouldBe("setWebhook");
        setWebhook.Body["url"]!.GetValue<string>().ShouldBe(Kennel + path);
        setWebhook.Body["secret_token"]!.GetValue<string>().ShouldBe(FakeTelegram.SecretToken);
        setWebhook.Body["allowed_updates"]!.AsArray().Select(u => u!.GetValue<string>()).ShouldBe(["message"]);
        status = (await client.ChannelStatusAsync()).Channels.Single();
        status.Registration.ShouldNotBeNull();
        (status.Registration.Ok, status.Registration.Url, status.Registration.Detail).ShouldBe((true, Kennel + path, "Accepted by the platform."));

        model.ThenEvents(ModelScript.Answer("The build is green."));
        var update = FakeTelegram.Message(900001, -1001234567890, 42, "how is the build?", 77, topic: 5);
        using var anon = server.Client();
        using (var first = await anon.SendAsync(FakeTelegram.Deliver(path, update)))
        {
            first.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await first.Content.ReadAsStringAsync()).ShouldContain("\"status\":\"queued\"");
        }
        // Telegram did not get the 200 in time and delivers the same update_id again: taken once.
        using (var again = await anon.SendAsync(FakeTelegram.Deliver(path, update)))
        {
            again.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await again.Content.ReadAsStringAsync()).ShouldContain("\"status\":\"duplicate\"");
        }

        await telegram.WaitForCallsAsync(2);
        var sent = telegram.Calls.Last();
        sent.Method.ShouldBe("sendMessage");
        sent.Body["chat_id"]!.GetValue<long>().ShouldBe(-1001234567890);
        sent.Body["message_thread_id"]!.GetValue<long>().ShouldBe(5);
        sent.Body["text"]!.GetValue<string>().ShouldBe("The build is green.");
        model.Requests.Count.ShouldBe(1);

        var history = await ChannelApi.EventuallyAsync(() => client.ChannelHistoryAsync(), page => page.Items.Any(m => m.Status == "sent"));
        history.Items.Select(m => (m.Direction, m.Chat, m.Thread, m.Text)).ShouldBe([
            ("out", "-1001234567890", "5", "The build is green."), ("in", "-1001234567890", "5", "how is the build?")]);
        history.Items[0].PlatformMessageId.ShouldBe("501");
        (history.Items[1].Sender, history.Items[1].PlatformMessageId).ShouldBe(("42", "77"));
        (await client.ListConversationsAsync()).Items.Single().Key.ShouldBe("tg:-1001234567890:5");

        status = (await client.ChannelStatusAsync()).Channels.Single();
        (status.Health, status.Received, status.Sent).ShouldBe(("ok", 1L, 1L));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_update_without_the_secret_token_is_refused_and_a_stranger_is_ignored_and_counted(string store)
    {
        await using var server = await StartAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        var path = await AddChannelAsync(client, "42");
        using var anon = server.Client();
        var update = FakeTelegram.Message(900100, 42, 42, "hello", 1);

        foreach (var secret in new[] { null, "", "not-the-secret-token", FakeTelegram.SecretToken + "x" })
        {
            using var refused = await anon.SendAsync(FakeTelegram.Deliver(path, update, secret));
            refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, $"secret token '{secret}'");
        }
        using (var nowhere = await anon.SendAsync(FakeTelegram.Deliver(path.Replace("/tg", "/nope", StringComparison.Ordinal), update)))
        {
            nowhere.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        using (var stranger = await anon.SendAsync(FakeTelegram.Deliver(path, FakeTelegram.Message(900101, 666, 666, "do my bidding", 2))))
        {
            stranger.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await stranger.Content.ReadAsStringAsync()).ShouldContain("\"status\":\"ignored\"");
        }
        // An edit is not a new message: acknowledged, and nothing else.
        using (var edit = await anon.SendAsync(FakeTelegram.Deliver(path, update.Replace("\"message\"", "\"edited_message\"", StringComparison.Ordinal))))
        {
            (await edit.Content.ReadAsStringAsync()).ShouldContain("\"status\":\"skipped\"");
        }

        (await client.ListRunsAsync()).Items.ShouldBeEmpty();
        (await client.ChannelHistoryAsync()).Items.ShouldBeEmpty("nothing of a refused or ignored update is kept");
        var status = (await client.ChannelStatusAsync()).Channels.Single();
        (status.Received, status.Ignored, status.LastIgnoredSender).ShouldBe((0L, 1L, "666"));
        model.Requests.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_429_waits_for_its_retry_after_and_a_send_that_keeps_failing_or_is_refused_is_recorded_with_its_error(string store)
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(store, clock);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        await AddChannelAsync(client);

        telegram.ThenFail(429, "Too Many Requests: retry after 30", retryAfter: 30);
        var limited = await client.ActAsync(new() { Channel = "tg", Action = "send", Chat = "42", Message = "77", Text = "deploy started" });
        (limited.Status, limited.Error).ShouldBe(("pending", "Telegram: 429 Too Many Requests: retry after 30"));
        var waiting = (await client.ChannelHistoryAsync()).Items.Single();
        waiting.NextAttemptAt!.Value.ShouldBe(clock.GetUtcNow().AddSeconds(30), TimeSpan.FromMilliseconds(1), "the wait Telegram asked for, not the 30 s ±20% backoff");
        clock.Advance(TimeSpan.FromSeconds(31));
        var sent = (await ChannelApi.EventuallyAsync(() => client.ChannelHistoryAsync(), page => page.Items.Single().Status == "sent")).Items.Single();
        (sent.Attempts, sent.PlatformMessageId).ShouldBe((2, "501"));
        telegram.Calls.Last().Body["reply_parameters"]!["message_id"]!.GetValue<long>().ShouldBe(77);

        for (var i = 0; i < ControlPlane.Delivery.DeliveryRetries.MaxAttempts; i++)
        {
            telegram.ThenFail(502, "Bad Gateway");
        }
        (await client.ActAsync(new() { Channel = "tg", Action = "react", Chat = "42", Message = "501", Emoji = "👍" })).Status.ShouldBe("pending");
        for (var attempt = 2; attempt <= ControlPlane.Delivery.DeliveryRetries.MaxAttempts; attempt++)
        {
            clock.Advance(TimeSpan.FromHours(1));
            await telegram.WaitForCallsAsync(2 + attempt);
            await ChannelApi.EventuallyAsync(() => client.ChannelHistoryAsync("?direction=out&limit=1"),
                page => page.Items[0].Status == "failed" || page.Items[0].NextAttemptAt > clock.GetUtcNow());
        }
        var history = await ChannelApi.EventuallyAsync(() => client.ChannelHistoryAsync("?direction=out"), page => page.Items[0].Status == "failed");
        history.Items[0].Error.ShouldBe("gave up after 6 attempts; the last: Telegram: 502 Bad Gateway");
        var reaction = telegram.Calls.Last();
        (reaction.Method, reaction.Body["message_id"]!.GetValue<long>()).ShouldBe(("setMessageReaction", 501));
        reaction.Body["reaction"]![0]!["emoji"]!.GetValue<string>().ShouldBe("👍");

        // A refusal is final at once, with Telegram's description.
        telegram.ThenFail(400, "Bad Request: chat not found");
        var refused = await client.ActAsync(new() { Channel = "tg", Action = "send", Chat = "-100999", Text = "anyone there?" });
        (refused.Status, refused.Error, refused.Attempts).ShouldBe(("failed", "Telegram: 400 Bad Request: chat not found", 1));
        var status = (await client.ChannelStatusAsync()).Channels.Single();
        (status.Health, status.Failed, status.Sent, status.Pending).ShouldBe(("failing", 2L, 1L, 0L));
        status.LastError.ShouldBe("Telegram: 400 Bad Request: chat not found");

        // Telegram answers again: a pin succeeds and the status turns back.
        (await client.ActAsync(new() { Channel = "tg", Action = "pin", Chat = "42", Message = "501" })).Status.ShouldBe("sent");
        telegram.Calls.Last().Method.ShouldBe("pinChatMessage");
        (await client.ChannelStatusAsync()).Channels.Single().Health.ShouldBe("ok");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_probe_shows_what_getMe_answers_and_a_refused_registration_turns_the_status_red_until_one_succeeds(string store)
    {
        await using var server = await StartAsync(store, externalUrl: null);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        await AddChannelAsync(client);
        await client.SetConfigOkAsync("channels.revoked", """{"kind": "telegram", "botToken": "7000001:revoked", "secretToken": "s"}""");
        await client.SetConfigOkAsync("channels.half", """{"kind": "telegram", "botToken": "7000001:x"}""");

        var statuses = (await client.GetFromJsonAsync("/v1/channels?probe=true", KennelJson.Default.ChannelStatusList))!.Channels.ToDictionary(s => s.Name);
        statuses["tg"].Probe.ShouldBe(new ChannelProbe(true, "getMe: @kennel_test_bot (7000001), Kennel Test."));
        statuses["revoked"].Probe.ShouldBe(new ChannelProbe(false, "getMe: Telegram: 401 Unauthorized"));
        statuses["half"].Missing.ShouldBe(["secretToken"]);
        statuses["half"].Probe!.Ok.ShouldBeFalse();

        // No KENNEL_EXTERNAL_URL and no url given: Kennel cannot know where Telegram should deliver.
        var (status, body) = await RegisterAsync(client, "tg");
        status.ShouldBe(HttpStatusCode.BadRequest);
        body.ShouldContain("KENNEL_EXTERNAL_URL");
        (await RegisterAsync(client, "half")).Status.ShouldBe(HttpStatusCode.BadRequest);
        (await RegisterAsync(client, "nope")).Status.ShouldBe(HttpStatusCode.NotFound);

        // Telegram refuses a webhook that is not https: the answer is shown, and kept in the status.
        var refused = JsonBodyOf(await RegisterAsync(client, "tg", "http://kennel.example.com"));
        (refused.Ok, refused.Detail).ShouldBe((false, "setWebhook: Telegram: 400 Bad Request: bad webhook: An HTTPS URL must be provided for webhook"));
        var tg = (await client.ChannelStatusAsync()).Channels.Single(c => c.Name == "tg");
        tg.Health.ShouldBe("failing");
        tg.Evidence.ShouldContain("An HTTPS URL must be provided");
        tg.Registration!.Ok.ShouldBeFalse();

        (await RegisterAsync(client, "revoked", Kennel)).Body.ShouldContain("setWebhook: Telegram: 401 Unauthorized");
        var accepted = JsonBodyOf(await RegisterAsync(client, "tg", Kennel + "/"));
        (accepted.Ok, accepted.Detail).ShouldBe((true, "setWebhook: Webhook was set."));
        tg = (await client.ChannelStatusAsync()).Channels.Single(c => c.Name == "tg");
        (tg.Health, tg.Registration!.Ok, tg.Registration.Url).ShouldBe(("no_traffic", true, Kennel + tg.InboundPath));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Another_workspace_cannot_register_see_or_reach_a_workspaces_Telegram_channel(string store)
    {
        await using var server = await StartAsync(store);
        using var a = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        using var b = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        var pathA = await AddChannelAsync(a, "*");
        await b.SetConfigOkAsync("channels.tg", """{"kind": "telegram", "allow": ["*"], "botToken": "7000002:b", "secretToken": "b-secret"}""");
        var pathB = (await b.ChannelStatusAsync()).Channels.Single().InboundPath;

        model.ThenEvents(ModelScript.Answer("hi A"));
        using var anon = server.Client();
        using (var toA = await anon.SendAsync(FakeTelegram.Deliver(pathA, FakeTelegram.Message(1, 42, 42, "hello", 1))))
        {
            toA.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        // A's update, with A's secret token, sent to B's URL: refused, never reaching B's agent.
        using (var toB = await anon.SendAsync(FakeTelegram.Deliver(pathB, FakeTelegram.Message(2, 42, 42, "hello", 2))))
        {
            toB.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        await ChannelApi.EventuallyAsync(() => a.ChannelHistoryAsync(), page => page.Items.Any(m => m.Status == "sent"));

        (await b.ChannelHistoryAsync("?channel=tg&q=hello")).Items.ShouldBeEmpty();
        (await b.ListRunsAsync()).Items.ShouldBeEmpty();
        (await b.ChannelStatusAsync()).Channels.Single().Received.ShouldBe(0);
        (await RegisterAsync(b, "other", Kennel)).Status.ShouldBe(HttpStatusCode.NotFound);
        // B registering its own channel names B's URL and B's token, never A's.
        await RegisterAsync(b, "tg");
        (await a.ChannelStatusAsync()).Channels.Single().Registration.ShouldBeNull();
        telegram.Calls.Where(c => c.Method == "setWebhook").ShouldBeEmpty("B's token is not the fake bot's: refused before any call is kept");
        telegram.Calls.Single().Method.ShouldBe("sendMessage");
    }

    private static ChannelRegistration JsonBodyOf((HttpStatusCode Status, string Body) response)
    {
        response.Status.ShouldBe(HttpStatusCode.OK, response.Body);
        return System.Text.Json.JsonSerializer.Deserialize(response.Body, KennelJson.Default.ChannelRegistration)!;
    }
}
