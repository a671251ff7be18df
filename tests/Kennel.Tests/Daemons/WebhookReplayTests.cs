using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Daemons;
using Kennel.ControlPlane.Daemons;
using Kennel.Testing;

namespace Kennel.Tests.Daemons;

/// <summary>
/// A signed delivery runs once: sent again (as GitHub's redelivery, a retrying proxy or an attacker who captured it
/// would), it is refused with 409 <c>webhook_replayed</c> and starts nothing, until the replay window has passed.
/// </summary>
public sealed class WebhookReplayTests(ServersWithoutWorkers servers, ServersWithAShortReplayWindow clocked)
    : IClassFixture<ServersWithoutWorkers>, IClassFixture<ServersWithAShortReplayWindow>
{
    private const string Secret = "replay-test-secret";

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_replayed_github_delivery_is_refused_and_starts_nothing(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var daemon = await client.CreateDaemonAsync(DaemonApi.Webhook("pr-reviewer", "true", secret: Secret));
        var neighbour = await client.CreateDaemonAsync(DaemonApi.Webhook("pr-labeler", "true", secret: Secret));
        var body = """{"action":"opened","number":1}""";
        var delivery = Guid.NewGuid().ToString();

        await StartedAsync(await server.PostWebhookAsync(daemon.Trigger.WebhookPath!, body, DaemonApi.GitHubHeaders(Secret, body, delivery)));
        // The same request again; then as a replayer may alter it: the unsigned delivery id changed or left out, or the
        // signature's hex in capitals (which verifies just the same).
        var signature = DaemonApi.GitHubHeaders(Secret, body)[0];
        foreach (var headers in new[]
        {
            DaemonApi.GitHubHeaders(Secret, body, delivery),
            DaemonApi.GitHubHeaders(Secret, body, Guid.NewGuid().ToString()),
            DaemonApi.GitHubHeaders(Secret, body),
            [(signature.Name, "sha256=" + signature.Value["sha256=".Length..].ToUpperInvariant()), ("X-GitHub-Delivery", delivery)],
        })
        {
            using var replayed = await server.PostWebhookAsync(daemon.Trigger.WebhookPath!, body, headers);
            await replayed.ShouldBeProblemAsync(409, "webhook_replayed");
        }
        // A new delivery id with a new body is a new delivery: GitHub's events differ.
        var next = """{"action":"opened","number":2}""";
        await StartedAsync(await server.PostWebhookAsync(daemon.Trigger.WebhookPath!, next, DaemonApi.GitHubHeaders(Secret, next, Guid.NewGuid().ToString())));
        // Deliveries are remembered per daemon: another daemon may get the same one.
        await StartedAsync(await server.PostWebhookAsync(neighbour.Trigger.WebhookPath!, body, DaemonApi.GitHubHeaders(Secret, body, delivery)));

        (await client.GetDaemonAsync("pr-reviewer")).Totals!.Sessions.ShouldBe(2);
        (await client.GetDaemonAsync("pr-labeler")).Totals!.Sessions.ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_replayed_slack_request_is_refused_within_its_five_minutes(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var daemon = await client.CreateDaemonAsync(DaemonApi.Webhook("slack-bot", "true", signature: "slack-v0", secret: Secret));
        var body = "command=%2Fdeploy&text=prod";
        var sentAt = DateTimeOffset.UtcNow;

        await StartedAsync(await server.PostWebhookAsync(daemon.Trigger.WebhookPath!, body, DaemonApi.SlackHeaders(Secret, body, sentAt)));
        using var replayed = await server.PostWebhookAsync(daemon.Trigger.WebhookPath!, body, DaemonApi.SlackHeaders(Secret, body, sentAt));
        await replayed.ShouldBeProblemAsync(409, "webhook_replayed");
        // The same command sent again by Slack carries a new timestamp, so a new signature: it runs.
        await StartedAsync(await server.PostWebhookAsync(daemon.Trigger.WebhookPath!, body, DaemonApi.SlackHeaders(Secret, body, sentAt.AddSeconds(-2))));

        (await client.GetDaemonAsync("slack-bot")).Totals!.Sessions.ShouldBe(2);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Concurrent_identical_deliveries_start_one_session(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var daemon = await client.CreateDaemonAsync(DaemonApi.Webhook("raced", "true", secret: Secret));
        var body = """{"action":"synchronize","number":3}""";
        var headers = DaemonApi.GitHubHeaders(Secret, body, Guid.NewGuid().ToString());

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => server.PostWebhookAsync(daemon.Trigger.WebhookPath!, body, headers)));
        try
        {
            responses.Count(r => (int)r.StatusCode == 202).ShouldBe(1);
            foreach (var refused in responses.Where(r => (int)r.StatusCode != 202))
            {
                await refused.ShouldBeProblemAsync(409, "webhook_replayed");
            }
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
        (await client.GetDaemonAsync("raced")).Totals!.Sessions.ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_delivery_older_than_the_replay_window_is_accepted_again(string store)
    {
        var server = await clocked.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var daemon = await client.CreateDaemonAsync(DaemonApi.Webhook("slow-redelivery", "true", secret: Secret));
        var body = """{"action":"closed","number":4}""";
        var headers = DaemonApi.GitHubHeaders(Secret, body, Guid.NewGuid().ToString());
        var window = ServersWithAShortReplayWindow.ReplayWindow;

        await StartedAsync(await server.PostWebhookAsync(daemon.Trigger.WebhookPath!, body, headers));
        clocked.Clock.Advance(window - TimeSpan.FromMinutes(1));
        using (var replayed = await server.PostWebhookAsync(daemon.Trigger.WebhookPath!, body, headers))
        {
            await replayed.ShouldBeProblemAsync(409, "webhook_replayed");
        }
        clocked.Clock.Advance(TimeSpan.FromMinutes(2));
        await StartedAsync(await server.PostWebhookAsync(daemon.Trigger.WebhookPath!, body, headers));

        (await client.GetDaemonAsync("slow-redelivery")).Totals!.Sessions.ShouldBe(2);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Deliveries_are_kept_as_hashes_and_swept_once_expired(string store)
    {
        var server = await clocked.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var daemon = await client.CreateDaemonAsync(DaemonApi.Webhook("swept", "true", secret: Secret));
        var body = """{"action":"opened","secret_looking_field":"visible-only-in-the-body"}""";
        var delivery = Guid.NewGuid().ToString();
        var before = await KeysAsync(server);
        await StartedAsync(await server.PostWebhookAsync(daemon.Trigger.WebhookPath!, body, DaemonApi.GitHubHeaders(Secret, body, delivery)));

        (await KeysAsync(server)).Except(before).Count().ShouldBe(2, "one key for the signed body, one for the delivery id");
        var kept = (await server.ReadAllValuesAsync()).Where(v => v.Table == "webhook_deliveries").ToList();
        kept.ShouldNotContain(v => v.Value.Contains("visible-only-in-the-body", StringComparison.Ordinal) || v.Value.Contains(delivery, StringComparison.Ordinal));

        // An hour past the window, the rows are deleted (by the periodic sweep, or this one).
        clocked.Clock.Advance(ServersWithAShortReplayWindow.ReplayWindow + TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));
        var sweeper = (WebhookDeliveries)server.Server.Services.GetService(typeof(WebhookDeliveries))!;
        await sweeper.SweepAsync(CancellationToken.None);
        (await server.ReadAllValuesAsync()).ShouldNotContain(v => v.Table == "webhook_deliveries");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Only_a_delivery_that_ran_is_remembered(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var daemon = await client.CreateDaemonAsync(DaemonApi.Webhook("careful", "true", secret: Secret));
        var body = """{"action":"opened","number":5}""";
        var delivery = Guid.NewGuid().ToString();

        // Someone without the secret cannot use up a delivery id ahead of GitHub.
        using (var forged = await server.PostWebhookAsync(daemon.Trigger.WebhookPath!, body, DaemonApi.GitHubHeaders("a guessed secret", body, delivery)))
        {
            await forged.ShouldBeProblemAsync(401, "signature_invalid");
        }
        // A delivery refused because the daemon was paused can be redelivered once it is resumed.
        (await client.PostAsync("/v1/daemons/careful/pause", null)).Dispose();
        using (var paused = await server.PostWebhookAsync(daemon.Trigger.WebhookPath!, body, DaemonApi.GitHubHeaders(Secret, body, delivery)))
        {
            await paused.ShouldBeProblemAsync(409, "daemon_paused");
        }
        (await client.PostAsync("/v1/daemons/careful/resume", null)).Dispose();
        await StartedAsync(await server.PostWebhookAsync(daemon.Trigger.WebhookPath!, body, DaemonApi.GitHubHeaders(Secret, body, delivery)));

        (await client.GetDaemonAsync("careful")).Totals!.Sessions.ShouldBe(1);
    }

    private static async Task<List<string>> KeysAsync(TestServer server) =>
        [.. (await server.ReadAllValuesAsync()).Where(v => v.Table == "webhook_deliveries" && v.Column == "delivery_key").Select(v => v.Value)];

    private static async Task StartedAsync(HttpResponseMessage response)
    {
        using (response)
        {
            ((int)response.StatusCode).ShouldBe(202, await response.Content.ReadAsStringAsync());
            (await response.Content.ReadFromJsonAsync(KennelJson.Default.DaemonTriggerResult))!.Outcome.ShouldBe("started");
        }
    }
}
