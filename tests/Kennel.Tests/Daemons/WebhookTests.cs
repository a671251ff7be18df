using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Kennel.Contracts;
using Kennel.Contracts.Daemons;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Daemons;
using Kennel.Testing;

namespace Kennel.Tests.Daemons;

/// <summary>
/// Public webhooks, as GitHub and Slack send them: a verified request starts a session that sees the exact payload as a
/// file; a forged, stale or oversized one starts nothing.
/// </summary>
public sealed class WebhookTests(SharedServers servers) : IClassFixture<SharedServers>
{
    private const string Secret = "It's a Secret to Everybody";
    private const string PrintPayload = "echo \"$KENNEL_TRIGGER_TYPE\"; cat \"$KENNEL_TRIGGER_PAYLOAD\"";

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_signed_github_payload_starts_a_session_that_sees_the_payload(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var daemon = await client.CreateDaemonAsync(DaemonApi.Webhook("pr-reviewer", PrintPayload, secret: Secret));
        var body = """{"action":"opened","pull_request":{"number":7,"title":"Füx"}}""";

        using var response = await PostAsync(server, daemon, body, ("X-Hub-Signature-256", WebhookSignature.Sign("hmac-sha256", Secret, Encoding.UTF8.GetBytes(body))),
            ("X-GitHub-Event", "pull_request"));

        ((int)response.StatusCode).ShouldBe(202, await response.Content.ReadAsStringAsync());
        var result = (await response.Content.ReadFromJsonAsync(KennelJson.Default.DaemonTriggerResult))!;
        result.Outcome.ShouldBe("started");
        var session = await client.WaitAsync(result.SessionId!);
        session.Status.ShouldBe(SessionStatus.Succeeded, session.Stderr);
        session.Stdout.ShouldBe("webhook\n" + body);
        session.Daemon.ShouldBe("pr-reviewer");
        session.Trigger.ShouldBe("webhook");
    }

    [Fact]
    public async Task The_known_github_example_signature_verifies()
    {
        // GitHub's documented example: secret "It's a Secret to Everybody", payload "Hello, World!".
        var headers = new Dictionary<string, string> { ["X-Hub-Signature-256"] = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" };

        WebhookSignature.Check("hmac-sha256", Secret, "X-Hub-Signature-256", h => headers.GetValueOrDefault(h), "Hello, World!"u8, DateTimeOffset.UtcNow)
            .ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_signed_slack_request_starts_a_session_that_sees_the_payload(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var daemon = await client.CreateDaemonAsync(DaemonApi.Webhook("slack-bot", PrintPayload, signature: "slack-v0", secret: Secret));
        var body = "token=x&team_id=T1&command=%2Ftriage&text=now";
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        using var response = await PostAsync(server, daemon, body,
            ("X-Slack-Request-Timestamp", timestamp.ToString(CultureInfo.InvariantCulture)),
            ("X-Slack-Signature", WebhookSignature.Sign("slack-v0", Secret, Encoding.UTF8.GetBytes(body), timestamp)));

        ((int)response.StatusCode).ShouldBe(202, await response.Content.ReadAsStringAsync());
        var session = await client.WaitAsync((await response.Content.ReadFromJsonAsync(KennelJson.Default.DaemonTriggerResult))!.SessionId!);
        session.Status.ShouldBe(SessionStatus.Succeeded, session.Stderr);
        session.Stdout.ShouldBe("webhook\n" + body);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_bad_or_missing_signature_is_a_401_and_starts_nothing(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var daemon = await client.CreateDaemonAsync(DaemonApi.Webhook("guarded", "true", secret: Secret));
        var body = """{"action":"opened"}""";
        var good = WebhookSignature.Sign("hmac-sha256", Secret, Encoding.UTF8.GetBytes(body));

        foreach (var header in new (string, string)?[]
        {
            null,
            ("X-Hub-Signature-256", WebhookSignature.Sign("hmac-sha256", "another secret!", Encoding.UTF8.GetBytes(body))),
            ("X-Hub-Signature-256", good.ToUpperInvariant()),
            ("X-Hub-Signature-256", good[..^2]),
            ("X-Hub-Signature-256", "sha256=zz" + good[9..]),
            ("X-Hub-Signature", good),
        })
        {
            using var response = header is { } h ? await PostAsync(server, daemon, body, h) : await PostAsync(server, daemon, body);
            await response.ShouldBeProblemAsync(401, "signature_invalid");
        }
        // The signature covers the exact body: the same header on a changed body fails too.
        using var tampered = await PostAsync(server, daemon, body.Replace("opened", "closed", StringComparison.Ordinal), ("X-Hub-Signature-256", good));
        await tampered.ShouldBeProblemAsync(401, "signature_invalid");
        (await client.GetDaemonAsync("guarded")).Totals!.Sessions.ShouldBe(0);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_stale_slack_timestamp_is_a_401_even_when_correctly_signed(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var daemon = await client.CreateDaemonAsync(DaemonApi.Webhook("slack-old", "true", signature: "slack-v0", secret: Secret));
        var body = "text=replayed";

        foreach (var age in new[] { TimeSpan.FromMinutes(6), TimeSpan.FromMinutes(-6) })
        {
            var timestamp = (DateTimeOffset.UtcNow - age).ToUnixTimeSeconds();
            using var response = await PostAsync(server, daemon, body,
                ("X-Slack-Request-Timestamp", timestamp.ToString(CultureInfo.InvariantCulture)),
                ("X-Slack-Signature", WebhookSignature.Sign("slack-v0", Secret, Encoding.UTF8.GetBytes(body), timestamp)));
            var problem = await response.ShouldBeProblemAsync(401, "signature_invalid");
            problem.Detail!.ShouldContain("5 minutes");
        }
        (await client.GetDaemonAsync("slack-old")).Totals!.Sessions.ShouldBe(0);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_payload_over_the_limit_is_a_413_and_starts_nothing(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var daemon = await client.CreateDaemonAsync(DaemonApi.Webhook("big", "true", signature: "none"));

        using var response = await PostAsync(server, daemon, new string('x', DaemonOptions.DefaultWebhookMaxBytes + 1));

        await response.ShouldBeProblemAsync(413, "payload_too_large");
        (await client.GetDaemonAsync("big")).Totals!.Sessions.ShouldBe(0);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_unauthenticated_webhook_accepts_anything_and_a_paused_one_refuses(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var daemon = await client.CreateDaemonAsync(DaemonApi.Webhook("open-door", "cat $KENNEL_TRIGGER_PAYLOAD", signature: "none"));

        using var accepted = await PostAsync(server, daemon, "ping");
        ((int)accepted.StatusCode).ShouldBe(202);
        var session = await client.WaitAsync((await accepted.Content.ReadFromJsonAsync(KennelJson.Default.DaemonTriggerResult))!.SessionId!);
        session.Stdout.ShouldBe("ping");

        (await client.PostAsync("/v1/daemons/open-door/pause", null)).Dispose();
        using var paused = await PostAsync(server, daemon, "ping");
        await paused.ShouldBeProblemAsync(409, "daemon_paused");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_webhook_url_of_another_kind_or_workspace_is_a_404(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var scheduled = await client.CreateDaemonAsync(DaemonApi.Scheduled("cron-only", "true", "@yearly"));
        using var anonymous = TestServer.Client(server.Url, null);

        using var notWebhook = await anonymous.PostRawAsync($"/v1/webhooks/{scheduled.Workspace}/cron-only", "{}");
        await notWebhook.ShouldBeProblemAsync(404, "not_found");
        using var otherWorkspace = await anonymous.PostRawAsync("/v1/webhooks/default/cron-only", "{}");
        await otherWorkspace.ShouldBeProblemAsync(404, "not_found");
    }

    private static async Task<HttpResponseMessage> PostAsync(TestServer server, Daemon daemon, string body, params (string Name, string Value)[] headers)
    {
        using var anonymous = TestServer.Client(server.Url, null);
        using var request = new HttpRequestMessage(HttpMethod.Post, daemon.Trigger.WebhookPath)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return await anonymous.SendAsync(request);
    }
}
