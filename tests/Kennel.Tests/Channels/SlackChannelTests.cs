using System.Net;
using System.Net.Http.Json;
using Kennel.Agents.Providers;
using Kennel.Contracts.ApiKeys;
using Kennel.ControlPlane.Channels;
using Kennel.Testing;
using Kennel.Tests.Config;

namespace Kennel.Tests.Channels;

/// <summary>
/// A Slack channel in a real control plane: signed events over real HTTP to its inbound URL, the agent answering through
/// a scripted provider in OpenAI's wire format, and the answer posted to a local Slack Web API that checks the token and
/// the JSON as Slack does.
/// </summary>
public sealed class SlackChannelTests : IAsyncLifetime
{
    private ScriptedProvider model = null!;
    private FakeSlack slack = null!;

    public async Task InitializeAsync()
    {
        model = await ScriptedProvider.StartAsync();
        slack = await FakeSlack.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await model.DisposeAsync();
        await slack.DisposeAsync();
    }

    private Task<TestServer> StartAsync(string store, TimeProvider? clock = null) =>
        ChannelApi.StartServerAsync(store, model, new ChannelOptions { SlackApiUrl = slack.ApiUrl }, clock);

    /// <summary>Configures the Slack channel <c>team</c>, allowing <paramref name="allow"/>; returns its inbound path.</summary>
    private static async Task<string> AddChannelAsync(HttpClient client, params string[] allow)
    {
        await client.SetConfigOkAsync("channels.team", $$"""
            {"kind": "slack", "allow": [{{string.Join(", ", allow.Select(a => $"\"{a}\""))}}],
             "signingSecret": "{{FakeSlack.SigningSecret}}", "botToken": "{{FakeSlack.Token}}"}
            """);
        return (await client.ChannelStatusAsync()).Channels.Single().InboundPath;
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_message_in_a_thread_is_answered_in_that_thread_once_even_when_Slack_retries_it(string store)
    {
        await using var server = await StartAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        var path = await AddChannelAsync(client, "U1");
        var status = (await client.ChannelStatusAsync()).Channels.Single();
        status.Health.ShouldBe("no_traffic");
        status.Missing.ShouldBeEmpty();

        // Slack's URL check is answered with its challenge, once signed.
        using var anon = server.Client();
        using (var challenge = await anon.SendAsync(FakeSlack.Event(path, """{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}""", DateTimeOffset.UtcNow)))
        {
            challenge.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await challenge.Content.ReadAsStringAsync()).ShouldBe("""{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}""");
        }

        model.ThenEvents(ModelScript.Answer("The build is green."));
        var body = FakeSlack.Message("Ev001", "C42", "U1", "how is the build?", "1712345600.000200", threadTs: "1712345600.000100");
        using (var first = await anon.SendAsync(FakeSlack.Event(path, body, DateTimeOffset.UtcNow)))
        {
            first.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await first.Content.ReadAsStringAsync()).ShouldContain("\"status\":\"queued\"");
        }
        // Slack did not see the 200 in time and sends the same event again: taken once.
        using (var retry = await anon.SendAsync(FakeSlack.Event(path, body, DateTimeOffset.UtcNow, retry: 1)))
        {
            retry.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await retry.Content.ReadAsStringAsync()).ShouldContain("\"status\":\"duplicate\"");
        }

        await slack.WaitForCallsAsync(1);
        var call = slack.Calls.Single();
        call.Method.ShouldBe("chat.postMessage");
        call.Body["channel"]!.GetValue<string>().ShouldBe("C42");
        call.Body["thread_ts"]!.GetValue<string>().ShouldBe("1712345600.000100");
        call.Body["text"]!.GetValue<string>().ShouldBe("The build is green.");
        model.Requests.Count.ShouldBe(1);
        (await client.ListRunsAsync()).Items.Count.ShouldBe(1);

        var history = await ChannelApi.EventuallyAsync(() => client.ChannelHistoryAsync(), page => page.Items.Any(m => m.Status == "sent"));
        history.Items.Select(m => (m.Direction, m.Text)).ShouldBe([("out", "The build is green."), ("in", "how is the build?")]);
        history.Items[0].Thread.ShouldBe("1712345600.000100");
        history.Items[0].PlatformMessageId.ShouldStartWith("1712345678.");
        (await client.ChannelHistoryAsync("?q=BUILD&direction=in")).Items.Single().Sender.ShouldBe("U1");

        status = (await client.ChannelStatusAsync()).Channels.Single();
        status.Health.ShouldBe("ok");
        status.Received.ShouldBe(1);
        status.Sent.ShouldBe(1);
        status.LastInboundAt.ShouldNotBeNull();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Forged_and_stale_events_are_refused_and_a_stranger_is_ignored_and_counted(string store)
    {
        await using var server = await StartAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        var path = await AddChannelAsync(client, "U1");
        using var anon = server.Client();
        var body = FakeSlack.Message("Ev100", "C42", "U1", "hello", "1712345600.000300");

        using (var forged = await anon.SendAsync(FakeSlack.Event(path, body, DateTimeOffset.UtcNow, secret: "not-the-secret")))
        {
            forged.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        using (var stale = await anon.SendAsync(FakeSlack.Event(path, body, DateTimeOffset.UtcNow.AddMinutes(-6))))
        {
            stale.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        using (var nowhere = await anon.SendAsync(FakeSlack.Event(path.Replace("/team", "/nope", StringComparison.Ordinal), body, DateTimeOffset.UtcNow)))
        {
            nowhere.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        using (var stranger = await anon.SendAsync(FakeSlack.Event(path, FakeSlack.Message("Ev101", "C42", "U666", "do my bidding", "1712345600.000400"),
            DateTimeOffset.UtcNow)))
        {
            stranger.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await stranger.Content.ReadAsStringAsync()).ShouldContain("\"status\":\"ignored\"");
        }

        (await client.ListRunsAsync()).Items.ShouldBeEmpty();
        (await client.ChannelHistoryAsync()).Items.ShouldBeEmpty("nothing of a refused or ignored message is kept");
        var status = (await client.ChannelStatusAsync()).Channels.Single();
        status.Received.ShouldBe(0);
        status.Ignored.ShouldBe(1);
        status.LastIgnoredSender.ShouldBe("U666");
        status.Health.ShouldBe("no_traffic");
        model.Requests.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_rate_limited_send_waits_for_Retry_After_and_one_that_keeps_failing_is_recorded_in_the_status(string store)
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(store, clock);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        await AddChannelAsync(client);

        slack.ThenAnswer(429, "30", """{"ok":false,"error":"ratelimited"}""");
        var limited = await client.ActAsync(new() { Channel = "team", Action = "send", Chat = "C42", Text = "deploy started" });
        limited.Status.ShouldBe("pending");
        limited.Error.ShouldBe("""HTTP 429: {"ok":false,"error":"ratelimited"}""");
        clock.Advance(TimeSpan.FromSeconds(31));
        var sent = await ChannelApi.EventuallyAsync(() => client.ChannelHistoryAsync(), page => page.Items.Single().Status == "sent");
        sent.Items.Single().Attempts.ShouldBe(2);
        slack.Calls.Count.ShouldBe(2);

        for (var i = 0; i < ControlPlane.Delivery.DeliveryRetries.MaxAttempts; i++)
        {
            slack.ThenAnswer(500, body: "upstream trouble");
        }
        var failing = await client.ActAsync(new() { Channel = "team", Action = "react", Chat = "C42", Message = sent.Items.Single().PlatformMessageId, Emoji = ":tada:" });
        failing.Status.ShouldBe("pending");
        for (var attempt = 2; attempt <= ControlPlane.Delivery.DeliveryRetries.MaxAttempts; attempt++)
        {
            clock.Advance(TimeSpan.FromHours(1));
            await slack.WaitForCallsAsync(2 + attempt);
            // The attempt is recorded (its retry due later, or given up on) before the clock moves again.
            await ChannelApi.EventuallyAsync(() => client.ChannelHistoryAsync("?direction=out&limit=1"),
                page => page.Items[0].Status == "failed" || page.Items[0].NextAttemptAt > clock.GetUtcNow());
        }
        var history = await ChannelApi.EventuallyAsync(() => client.ChannelHistoryAsync("?direction=out"), page => page.Items[0].Status == "failed");
        history.Items[0].Error!.ShouldStartWith("gave up after 6 attempts; the last: HTTP 500: upstream trouble");
        slack.Calls.Last().Body["name"]!.GetValue<string>().ShouldBe("tada");

        var status = (await client.ChannelStatusAsync()).Channels.Single();
        status.Health.ShouldBe("failing");
        status.Failed.ShouldBe(1);
        status.Sent.ShouldBe(1);
        status.LastError!.ShouldContain("HTTP 500");
        status.Pending.ShouldBe(0);

        // Slack answers again: the next send succeeds and the status turns back.
        (await client.ActAsync(new() { Channel = "team", Action = "pin", Chat = "C42", Message = sent.Items.Single().PlatformMessageId })).Status.ShouldBe("sent");
        slack.Calls.Last().Method.ShouldBe("pins.add");
        status = (await client.ChannelStatusAsync()).Channels.Single();
        (status.Health, status.Sent, status.Failed).ShouldBe(("ok", 2L, 1L));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_probe_shows_what_Slack_answers_auth_test_with_the_channels_token(string store)
    {
        await using var server = await StartAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        await AddChannelAsync(client);
        await client.SetConfigOkAsync("channels.stale", """{"kind": "slack", "signingSecret": "s", "botToken": "xoxb-revoked"}""");
        await client.SetConfigOkAsync("channels.half", """{"kind": "slack"}""");

        var statuses = (await client.GetFromJsonAsync("/v1/channels?probe=true", Contracts.KennelJson.Default.ChannelStatusList))!.Channels
            .ToDictionary(s => s.Name);
        statuses["team"].Probe.ShouldBe(new Contracts.Channels.ChannelProbe(true, "auth.test: team Kennel Test (T0001), bot user kennel-bot (U0BOT)."));
        statuses["stale"].Probe.ShouldBe(new Contracts.Channels.ChannelProbe(false, "auth.test: Slack: invalid_auth"));
        statuses["half"].Probe!.Ok.ShouldBeFalse();
        statuses["half"].Health.ShouldBe("not_configured");
        statuses["half"].Missing.ShouldBe(["signingSecret", "botToken"]);
        // A probe is evidence of credentials, not of traffic: the health stays what the traffic says.
        statuses["team"].Health.ShouldBe("no_traffic");
        (await client.ChannelStatusAsync()).Channels.ShouldAllBe(s => s.Probe == null);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Another_workspace_cannot_see_or_use_a_workspaces_channel_nor_reach_its_agent(string store)
    {
        await using var server = await StartAsync(store);
        using var a = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        using var b = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        var pathA = await AddChannelAsync(a, "*");
        await b.SetConfigOkAsync("channels.team", """{"kind": "slack", "allow": ["*"], "signingSecret": "b-secret", "botToken": "xoxb-b"}""");
        var pathB = (await b.ChannelStatusAsync()).Channels.Single().InboundPath;

        model.ThenEvents(ModelScript.Answer("hi A"));
        using var anon = server.Client();
        using (var toA = await anon.SendAsync(FakeSlack.Event(pathA, FakeSlack.Message("Ev200", "C1", "U1", "hello", "1712345600.000500"), DateTimeOffset.UtcNow)))
        {
            toA.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        // A's event, signed with A's secret, sent to B's URL: refused, never reaching B's agent.
        using (var toB = await anon.SendAsync(FakeSlack.Event(pathB, FakeSlack.Message("Ev201", "C1", "U1", "hello", "1712345600.000600"), DateTimeOffset.UtcNow)))
        {
            toB.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        await ChannelApi.EventuallyAsync(() => a.ChannelHistoryAsync(), page => page.Items.Any(m => m.Status == "sent"));

        (await b.ChannelHistoryAsync()).Items.ShouldBeEmpty();
        (await b.ChannelHistoryAsync("?channel=team&q=hello")).Items.ShouldBeEmpty();
        (await b.ListRunsAsync()).Items.ShouldBeEmpty();
        (await b.ChannelStatusAsync()).Channels.Single().Received.ShouldBe(0);
        using var act = await b.PostAsync("/v1/channels/actions", new StringContent("""{"channel":"ops","chat":"C1","text":"x"}""",
            System.Text.Encoding.UTF8, "application/json"));
        act.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        slack.Calls.Count.ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_agents_message_tool_and_a_cron_jobs_channel_delivery_reach_the_chat_they_name(string store)
    {
        await using var server = await StartAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write, Scopes.Chat);
        await AddChannelAsync(client);
        await client.SetConfigOkAsync("agents.main.tools", """["exec", "message"]""");

        model.ThenEvents(MessageCall("call_1", """{"channel": "team", "chat": "C9", "text": "Heads up: the deploy starts at 5."}"""));
        model.ThenEvents(ModelScript.Answer("Told them."));
        (await client.SendAsync("main", "tell the team about the deploy")).Answer.ShouldBe("Told them.");
        await slack.WaitForCallsAsync(1);
        var told = slack.Calls.Single();
        (told.Method, told.Body["channel"]!.GetValue<string>(), told.Body["text"]!.GetValue<string>())
            .ShouldBe(("chat.postMessage", "C9", "Heads up: the deploy starts at 5."));
        // The tool's result, as the model read it, says it was sent.
        model.Requests.Last().Body.ShouldContain("sent (id chm_");

        using (var nowhere = await client.PostAsJsonAsync("/v1/cron", CronApi.AgentTurn("digest", "Summarise.", CronApi.Every("1d")) with
        {
            Delivery = new() { Mode = "channel", Channel = "nope", Chat = "C7" },
        }, Contracts.KennelJson.Default.CreateCronJobRequest))
        {
            nowhere.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await nowhere.Content.ReadAsStringAsync()).ShouldContain("delivery.channel");
        }
        await client.AddCronJobAsync(CronApi.AgentTurn("digest", "Summarise.", CronApi.Every("1d")) with
        {
            Delivery = new() { Mode = "channel", Channel = "team", Chat = "C7", Thread = "1712345600.000100" },
        });
        model.ThenEvents(ModelScript.Answer("All quiet today."));
        using (var run = await client.PostAsync("/v1/cron/digest/run", null))
        {
            run.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }
        var runs = await client.WaitForCronRunsAsync("?job=digest", page => page.Items.Single().Delivery?.Status == "delivered");
        runs.Items.Single().Delivery!.DeliveredAt.ShouldNotBeNull();
        var digest = slack.Calls.Last();
        (digest.Body["channel"]!.GetValue<string>(), digest.Body["thread_ts"]!.GetValue<string>(), digest.Body["text"]!.GetValue<string>())
            .ShouldBe(("C7", "1712345600.000100", "All quiet today."));
        (await client.ChannelHistoryAsync("?chat=C7")).Items.Single().RunId.ShouldBe(runs.Items.Single().Id);
    }

    /// <summary>A complete step that calls the <c>message</c> tool with these arguments, in OpenAI's streaming format.</summary>
    private static (string?, string)[] MessageCall(string callId, string arguments) =>
    [
        ModelScript.Chunk($$$"""{"role":"assistant","tool_calls":[{"index":0,"id":"{{{callId}}}","type":"function","function":{"name":"message","arguments":{{{System.Text.Json.JsonSerializer.Serialize(arguments)}}}}}]}"""),
        ModelScript.Chunk("{}", "tool_calls"),
        ModelScript.Usage(120, 20),
        (null, "[DONE]"),
    ];
}
