using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Dapper;
using Kennel.ControlPlane.Delivery;
using Kennel.Testing;

namespace Kennel.Tests.Delivery;

/// <summary>
/// The outbox on each store, sent over real HTTP to a receiver on loopback, on a manual clock so retries come due when
/// a test says so.
/// </summary>
public sealed class WebhookOutboxTests
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_webhook_arrives_signed_with_its_outbox_id(string store)
    {
        await using var fixture = await OutboxFixture.CreateAsync(store);
        await using var receiver = await WebhookReceiverHost.StartAsync();
        var id = await fixture.EnqueueAsync(receiver.Url.ToString(), body: """{"run":"run_1","status":"succeeded"}""");

        (await fixture.NewSender().SendDueAsync(CancellationToken.None)).ShouldBe(1);

        var request = receiver.Requests.ShouldHaveSingleItem();
        request.Id.ShouldBe(id);
        id.ShouldStartWith("msg_");
        request.Body.ShouldBe("""{"run":"run_1","status":"succeeded"}""");
        WebhookReceiverHost.SignatureIsValid(request, fixture.Secret).ShouldBeTrue();
        WebhookReceiverHost.SignatureIsValid(request, WebhookSecret.New()).ShouldBeFalse();
        long.Parse(request.Timestamp!, CultureInfo.InvariantCulture).ShouldBe(fixture.Clock.GetUtcNow().ToUnixTimeSeconds());
        request.ContentType.ShouldBe("application/json");
        request.UserAgent.ShouldStartWith("Kennel/");
        var state = await fixture.StateAsync();
        state.ShouldBe(new OutboundWebhookState(id, "run_1", OutboundWebhookStatus.Delivered, 1, null, 200, fixture.Clock.GetUtcNow(), null));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_server_error_is_retried_later_with_the_same_id(string store)
    {
        await using var fixture = await OutboxFixture.CreateAsync(store);
        await using var receiver = await WebhookReceiverHost.StartAsync();
        receiver.ThenAnswer(500, body: "database\nis down");
        var id = await fixture.EnqueueAsync(receiver.Url.ToString());
        var sender = fixture.NewSender();

        await sender.SendDueAsync(CancellationToken.None);
        var waiting = await fixture.StateAsync();
        waiting.Status.ShouldBe(OutboundWebhookStatus.Pending);
        waiting.Attempts.ShouldBe(1);
        waiting.LastHttpStatus.ShouldBe(500);
        waiting.LastError.ShouldBe("HTTP 500: database is down");
        waiting.NextAttemptAt!.Value.ShouldBeGreaterThan(fixture.Clock.GetUtcNow());
        (await sender.SendDueAsync(CancellationToken.None)).ShouldBe(0); // not due yet

        fixture.Clock.Advance(DeliveryRetries.Backoff(1, jitter: 1));
        (await sender.SendDueAsync(CancellationToken.None)).ShouldBe(1);

        var delivered = await fixture.StateAsync();
        delivered.Status.ShouldBe(OutboundWebhookStatus.Delivered);
        delivered.Attempts.ShouldBe(2);
        delivered.LastHttpStatus.ShouldBe(200);
        delivered.LastError.ShouldBeNull();
        receiver.Requests.Select(r => r.Id).ShouldBe([id, id]);
        receiver.Requests.ShouldAllBe(r => WebhookReceiverHost.SignatureIsValid(r, fixture.Secret));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_client_error_fails_at_once(string store)
    {
        await using var fixture = await OutboxFixture.CreateAsync(store);
        await using var receiver = await WebhookReceiverHost.StartAsync();
        receiver.ThenAnswer(404, body: "no such hook");
        await fixture.EnqueueAsync(receiver.Url.ToString());
        var sender = fixture.NewSender();

        await sender.SendDueAsync(CancellationToken.None);
        fixture.Clock.Advance(DeliveryRetries.LongestWait);
        (await sender.SendDueAsync(CancellationToken.None)).ShouldBe(0);

        var state = await fixture.StateAsync();
        state.Status.ShouldBe(OutboundWebhookStatus.Failed);
        state.Attempts.ShouldBe(1);
        state.LastHttpStatus.ShouldBe(404);
        state.LastError.ShouldBe("HTTP 404: no such hook");
        state.NextAttemptAt.ShouldBeNull();
        receiver.Requests.Count.ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Too_many_requests_waits_as_long_as_retry_after_asks(string store)
    {
        await using var fixture = await OutboxFixture.CreateAsync(store);
        await using var receiver = await WebhookReceiverHost.StartAsync();
        receiver.ThenAnswer(429, retryAfter: "120");
        await fixture.EnqueueAsync(receiver.Url.ToString());

        await fixture.NewSender().SendDueAsync(CancellationToken.None);

        var state = await fixture.StateAsync();
        state.Status.ShouldBe(OutboundWebhookStatus.Pending);
        state.NextAttemptAt.ShouldBe(fixture.Clock.GetUtcNow().AddSeconds(120));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_receiver_that_keeps_failing_is_given_up_on_after_the_last_attempt(string store)
    {
        await using var fixture = await OutboxFixture.CreateAsync(store);
        await using var receiver = await WebhookReceiverHost.StartAsync();
        for (var i = 0; i < DeliveryRetries.MaxAttempts + 1; i++)
        {
            receiver.ThenAnswer(503);
        }
        await fixture.EnqueueAsync(receiver.Url.ToString());
        var sender = fixture.NewSender();

        for (var i = 0; i < DeliveryRetries.MaxAttempts + 1; i++)
        {
            await sender.SendDueAsync(CancellationToken.None);
            fixture.Clock.Advance(DeliveryRetries.LongestWait);
        }

        var state = await fixture.StateAsync();
        state.Status.ShouldBe(OutboundWebhookStatus.Failed);
        state.Attempts.ShouldBe(DeliveryRetries.MaxAttempts);
        state.LastError.ShouldBe($"gave up after {DeliveryRetries.MaxAttempts} attempts; the last: HTTP 503");
        receiver.Requests.Count.ShouldBe(DeliveryRetries.MaxAttempts);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_redirect_is_not_followed(string store)
    {
        await using var fixture = await OutboxFixture.CreateAsync(store);
        await using var receiver = await WebhookReceiverHost.StartAsync();
        receiver.ThenAnswer(307);
        await fixture.EnqueueAsync(receiver.Url.ToString());

        await fixture.NewSender().SendDueAsync(CancellationToken.None);

        var state = await fixture.StateAsync();
        state.Status.ShouldBe(OutboundWebhookStatus.Failed);
        state.LastHttpStatus.ShouldBe(307);
        state.LastError!.ShouldContain("redirect");
        receiver.Requests.Count.ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_receiver_that_is_not_listening_is_retried(string store)
    {
        await using var fixture = await OutboxFixture.CreateAsync(store);
        await fixture.EnqueueAsync($"http://127.0.0.1:{LoopbackPort.Free()}/hook");

        await fixture.NewSender().SendDueAsync(CancellationToken.None);

        var state = await fixture.StateAsync();
        state.Status.ShouldBe(OutboundWebhookStatus.Pending);
        state.LastHttpStatus.ShouldBeNull();
        state.LastError!.ShouldStartWith("could not connect: ");
    }

    [Fact]
    public async Task A_receiver_that_does_not_answer_in_time_is_retried()
    {
        await using var fixture = await OutboxFixture.CreateAsync(TestStore.Sqlite);
        await using var receiver = await WebhookReceiverHost.StartAsync();
        receiver.Hold = new TaskCompletionSource();
        await fixture.EnqueueAsync(receiver.Url.ToString());

        await fixture.NewSender().SendDueAsync(CancellationToken.None);

        var state = await fixture.StateAsync();
        state.Status.ShouldBe(OutboundWebhookStatus.Pending);
        state.LastError.ShouldBe($"no answer within {WebhookSender.AttemptTimeout.TotalSeconds:0} seconds");
        state.LastHttpStatus.ShouldBeNull();
    }

    [Theory]
    [InlineData(TestStore.Sqlite, "", "http://127.0.0.1:{port}/hook", "destination 127.0.0.1 is a loopback address; an admin can allow it with KENNEL_OUTBOUND_ALLOW_CIDRS")]
    [InlineData(TestStore.Postgres, "", "http://127.0.0.1:{port}/hook", "destination 127.0.0.1 is a loopback address; an admin can allow it with KENNEL_OUTBOUND_ALLOW_CIDRS")]
    [InlineData(TestStore.Sqlite, "", "http://localhost:{port}/hook", "is a loopback address; an admin can allow it with KENNEL_OUTBOUND_ALLOW_CIDRS ('localhost' resolves to it)")]
    [InlineData(TestStore.Sqlite, "", "http://[::ffff:127.0.0.1]:{port}/hook", "destination 127.0.0.1 is a loopback address")]
    [InlineData(TestStore.Sqlite, "127.0.0.0/8", "http://169.254.169.254/latest/meta-data/", "destination 169.254.169.254 is a link-local address (where cloud metadata services live)")]
    [InlineData(TestStore.Postgres, "127.0.0.0/8", "http://169.254.169.254/latest/meta-data/", "destination 169.254.169.254 is a link-local address")]
    [InlineData(TestStore.Sqlite, "127.0.0.0/8", "http://10.1.2.3/hook", "destination 10.1.2.3 is a private address")]
    public async Task A_destination_that_is_not_public_fails_at_once_without_a_connection(string store, string allow, string url, string error)
    {
        await using var fixture = await OutboxFixture.CreateAsync(store, allow);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            await fixture.EnqueueAsync(url.Replace("{port}", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
            var sender = fixture.NewSender();

            await sender.SendDueAsync(CancellationToken.None);
            fixture.Clock.Advance(DeliveryRetries.LongestWait);
            (await sender.SendDueAsync(CancellationToken.None)).ShouldBe(0);

            var state = await fixture.StateAsync();
            state.Status.ShouldBe(OutboundWebhookStatus.Failed);
            state.Attempts.ShouldBe(1);
            state.LastHttpStatus.ShouldBeNull();
            state.LastError!.ShouldContain(error);
            listener.Pending().ShouldBeFalse();
        }
        finally
        {
            listener.Stop();
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_message_enqueued_in_a_transaction_that_rolls_back_is_never_sent(string store)
    {
        await using var fixture = await OutboxFixture.CreateAsync(store);
        await using var receiver = await WebhookReceiverHost.StartAsync();

        await Should.ThrowAsync<InvalidOperationException>(() => fixture.Database.WriteAsync(async (connection, transaction) =>
        {
            await fixture.Outbox.EnqueueAsync(connection, transaction,
                new OutboundWebhook(OutboxFixture.Workspace, "cron_run", "run_1", receiver.Url.ToString(), fixture.Secret, "{}"), CancellationToken.None);
            throw new InvalidOperationException("the cron run's own write failed");
        }, CancellationToken.None));

        (await fixture.NewSender().SendDueAsync(CancellationToken.None)).ShouldBe(0);
        (await fixture.Outbox.StatesAsync(OutboxFixture.Workspace, "cron_run", ["run_1"], CancellationToken.None)).ShouldBeEmpty();
        receiver.Requests.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_message_claimed_by_a_sender_that_died_is_sent_once_after_its_lease(string store)
    {
        await using var fixture = await OutboxFixture.CreateAsync(store);
        await using var receiver = await WebhookReceiverHost.StartAsync();
        var id = await fixture.EnqueueAsync(receiver.Url.ToString());
        // A control plane claimed it, counted the attempt and died before its POST.
        await fixture.Database.WriteAsync((connection, transaction) => connection.ExecuteAsync(
            "UPDATE webhook_outbox SET owner = 'cp_gone', lease_expires_at = @lease, attempts = 1 WHERE id = @id",
            new { id, lease = (fixture.Clock.GetUtcNow() + WebhookSender.Lease).ToUnixTimeMilliseconds() }, transaction), CancellationToken.None);
        var first = fixture.NewSender();
        var second = fixture.NewSender();

        (await first.SendDueAsync(CancellationToken.None)).ShouldBe(0);
        fixture.Clock.Advance(WebhookSender.Lease + TimeSpan.FromSeconds(1));
        var sent = await Task.WhenAll(first.SendDueAsync(CancellationToken.None), second.SendDueAsync(CancellationToken.None));
        fixture.Clock.Advance(DeliveryRetries.LongestWait);
        await Task.WhenAll(first.SendDueAsync(CancellationToken.None), second.SendDueAsync(CancellationToken.None));

        sent.Sum().ShouldBe(1);
        receiver.Requests.ShouldHaveSingleItem().Id.ShouldBe(id);
        var state = await fixture.StateAsync();
        state.Status.ShouldBe(OutboundWebhookStatus.Delivered);
        state.Attempts.ShouldBe(2);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_send_cut_off_by_a_graceful_stop_is_given_back_uncounted(string store)
    {
        await using var fixture = await OutboxFixture.CreateAsync(store);
        await using var receiver = await WebhookReceiverHost.StartAsync();
        receiver.Hold = new TaskCompletionSource();
        var id = await fixture.EnqueueAsync(receiver.Url.ToString());
        var stopping = fixture.NewSender();

        await stopping.StartAsync(CancellationToken.None);
        await receiver.WaitForRequestsAsync(1);
        await stopping.StopAsync(CancellationToken.None);

        var given = await fixture.StateAsync();
        given.Status.ShouldBe(OutboundWebhookStatus.Pending);
        given.Attempts.ShouldBe(0);
        receiver.Hold = null;
        (await fixture.NewSender().SendDueAsync(CancellationToken.None)).ShouldBe(1);
        receiver.Requests.Select(r => r.Id).ShouldBe([id, id]);
        (await fixture.StateAsync()).Status.ShouldBe(OutboundWebhookStatus.Delivered);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task The_secret_is_stored_encrypted(string store)
    {
        await using var fixture = await OutboxFixture.CreateAsync(store);
        await fixture.EnqueueAsync("https://hooks.example.com/kennel");

        var stored = await fixture.StoredValuesAsync();

        var key = fixture.Secret["whsec_".Length..];
        stored.ShouldNotBeEmpty();
        stored.ShouldAllBe(value => !value.Contains(key));
        stored.ShouldContain(value => value.StartsWith("enc:v1:"));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Delivery_states_are_read_within_one_workspace(string store)
    {
        await using var fixture = await OutboxFixture.CreateAsync(store);
        await fixture.Database.WriteAsync((connection, transaction) => connection.ExecuteAsync(
            "INSERT INTO workspaces (id, name, created_at) VALUES ('ws_other', 'other', 0)", transaction: transaction), CancellationToken.None);
        var first = await fixture.EnqueueAsync("https://hooks.example.com/a", sourceId: "run_a");
        var second = await fixture.EnqueueAsync("https://hooks.example.com/b", sourceId: "run_b");

        var states = await fixture.Outbox.StatesAsync(OutboxFixture.Workspace, "cron_run", ["run_a", "run_b", "run_c"], CancellationToken.None);
        var elsewhere = await fixture.Outbox.StatesAsync("ws_other", "cron_run", ["run_a", "run_b"], CancellationToken.None);
        var otherKind = await fixture.Outbox.StatesAsync(OutboxFixture.Workspace, "channel_message", ["run_a"], CancellationToken.None);

        states.Keys.Order().ShouldBe(["run_a", "run_b"]);
        states["run_a"].Id.ShouldBe(first);
        states["run_b"].Id.ShouldBe(second);
        states["run_a"].Status.ShouldBe(OutboundWebhookStatus.Pending);
        states["run_a"].Attempts.ShouldBe(0);
        states["run_a"].NextAttemptAt.ShouldBe(fixture.Clock.GetUtcNow());
        elsewhere.ShouldBeEmpty();
        otherKind.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Ended_messages_are_pruned_after_the_retention_and_pending_ones_never(string store)
    {
        await using var fixture = await OutboxFixture.CreateAsync(store);
        await using var receiver = await WebhookReceiverHost.StartAsync();
        await fixture.EnqueueAsync(receiver.Url.ToString(), sourceId: "run_sent");
        await fixture.NewSender().SendDueAsync(CancellationToken.None);
        await fixture.EnqueueAsync("https://hooks.example.com/later", sourceId: "run_waiting");

        (await fixture.Outbox.PruneAsync(fixture.Clock.GetUtcNow() - WebhookSender.Retention, CancellationToken.None)).ShouldBe(0);
        fixture.Clock.Advance(WebhookSender.Retention + TimeSpan.FromMinutes(1));
        (await fixture.Outbox.PruneAsync(fixture.Clock.GetUtcNow() - WebhookSender.Retention, CancellationToken.None)).ShouldBe(1);

        var left = await fixture.Outbox.StatesAsync(OutboxFixture.Workspace, "cron_run", ["run_sent", "run_waiting"], CancellationToken.None);
        left.Keys.ShouldBe(["run_waiting"]);
    }

    [Theory]
    [InlineData("ftp://hooks.example.com/x", "{}", "absolute http:// or https://")]
    [InlineData("/relative", "{}", "absolute http:// or https://")]
    [InlineData("https://user:pass@hooks.example.com/x", "{}", "no user name or password")]
    [InlineData("https://hooks.example.com/x", "not json", "JSON")]
    public async Task A_message_a_caller_should_have_refused_is_not_enqueued(string url, string body, string error)
    {
        await using var fixture = await OutboxFixture.CreateAsync(TestStore.Sqlite);

        var refused = await Should.ThrowAsync<ArgumentException>(() => fixture.EnqueueAsync(url, body: body));

        refused.Message.ShouldContain(error);
        (await fixture.StoredValuesAsync()).ShouldBeEmpty();
    }
}
