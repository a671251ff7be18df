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

        using var response = await PostAsync(server, daemon, body, DaemonApi.SlackHeaders(Secret, body, DateTimeOffset.UtcNow));

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
            using var response = await server.PostWebhookAsync(daemon.Trigger.WebhookPath!, body, DaemonApi.SlackHeaders(Secret, body, DateTimeOffset.UtcNow - age));
            await response.ShouldBeProblemAsync(401, "signature_invalid");
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
    public async Task Every_request_refused_before_a_valid_signature_gets_the_same_answer(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var github = await client.CreateDaemonAsync(DaemonApi.Webhook("github-hook", "true", secret: Secret));
        var slack = await client.CreateDaemonAsync(DaemonApi.Webhook("slack-hook", "true", signature: "slack-v0", secret: Secret));
        var paused = await client.CreateDaemonAsync(DaemonApi.Webhook("paused-hook", "true", secret: Secret));
        (await client.PostAsync("/v1/daemons/paused-hook/pause", null)).Dispose();
        await client.CreateDaemonAsync(DaemonApi.Scheduled("cron-only", "true", "@yearly"));
        await client.CreateDaemonAsync(DaemonApi.Webhook("deleted-hook", "true", secret: Secret));
        (await client.DeleteAsync("/v1/daemons/deleted-hook")).Dispose();
        var workspace = github.Workspace;
        var body = """{"action":"opened"}""";
        var forged = DaemonApi.GitHubHeaders("not the daemon's secret", body, Guid.NewGuid().ToString());

        var cases = new (string Why, string Path, (string, string)[] Headers)[]
        {
            ("a missing daemon", $"/v1/webhooks/{workspace}/no-such-hook", forged),
            ("a missing workspace", "/v1/webhooks/no-such-workspace/github-hook", forged),
            ("a daemon of another kind", $"/v1/webhooks/{workspace}/cron-only", forged),
            ("a deleted daemon", $"/v1/webhooks/{workspace}/deleted-hook", forged),
            ("a name no daemon can have", $"/v1/webhooks/{workspace}/Not_A_Name", forged),
            ("a wrong signature", github.Trigger.WebhookPath!, forged),
            ("no signature", github.Trigger.WebhookPath!, []),
            ("a paused daemon and a wrong signature", paused.Trigger.WebhookPath!, forged),
            ("a Slack daemon and GitHub's header", slack.Trigger.WebhookPath!, forged),
            ("a Slack daemon and a stale timestamp", slack.Trigger.WebhookPath!, DaemonApi.SlackHeaders(Secret, body, DateTimeOffset.UtcNow.AddMinutes(-6))),
            ("a Slack daemon and no timestamp", slack.Trigger.WebhookPath!, [("X-Slack-Signature", "v0=00")]),
        };
        string? first = null;
        foreach (var (why, path, headers) in cases)
        {
            using var response = await server.PostWebhookAsync(path, body, headers);
            await response.ShouldBeProblemAsync(401, "signature_invalid");
            var answer = $"{response.Content.Headers.ContentType} | {response.Headers.WwwAuthenticate} | {await response.Content.ReadAsStringAsync()}";
            first ??= answer;
            answer.ShouldBe(first, $"{why} must be answered as a missing daemon is");
        }
        foreach (var revealing in new[] { "sha256", "X-Hub", "Slack", "hmac", "github-hook", "paused", workspace })
        {
            first!.ShouldNotContain(revealing);
        }
        foreach (var name in new[] { "github-hook", "slack-hook", "paused-hook" })
        {
            (await client.GetDaemonAsync(name)).Totals!.Sessions.ShouldBe(0);
        }
    }

    private static Task<HttpResponseMessage> PostAsync(TestServer server, Daemon daemon, string body, params (string Name, string Value)[] headers) =>
        server.PostWebhookAsync(daemon.Trigger.WebhookPath!, body, headers);
}
