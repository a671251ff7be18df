using Kennel.ControlPlane.Delivery;
using Kennel.ControlPlane.Http;
using Kennel.Store;
using Kennel.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.Tests.Delivery;

/// <summary>The sender as <c>kennel serve</c> runs it: a message committed here is sent without anyone asking.</summary>
public sealed class WebhookSenderServiceTests
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_committed_message_is_sent_by_the_running_control_plane(string store)
    {
        await using var receiver = await WebhookReceiverHost.StartAsync();
        await using var server = await TestServer.StartAsync(store, settings => settings with
        {
            EmbeddedWorker = false,
            Outbound = OutboundAddresses.Parse("127.0.0.1/32", out _)!,
        });
        var database = server.Server.Services.GetRequiredService<Database>();
        var outbox = server.Server.Services.GetRequiredService<WebhookOutbox>();
        var secret = WebhookSecret.New();

        var id = await database.WriteAsync((connection, transaction) => outbox.EnqueueAsync(connection, transaction,
            new OutboundWebhook("ws_default", "cron_run", "run_42", receiver.Url.ToString(), secret, """{"ok":true}"""), CancellationToken.None),
            CancellationToken.None);
        outbox.Wake();

        var state = await WaitForAsync(outbox, state => state.Status != OutboundWebhookStatus.Pending);
        state.Status.ShouldBe(OutboundWebhookStatus.Delivered);
        state.Id.ShouldBe(id);
        var request = receiver.Requests.ShouldHaveSingleItem();
        request.Id.ShouldBe(id);
        WebhookReceiverHost.SignatureIsValid(request, secret).ShouldBeTrue();
        var key = secret["whsec_".Length..];
        (await server.ReadAllValuesAsync()).ShouldAllBe(value => !value.Value.Contains(key));
    }

    private static async Task<OutboundWebhookState> WaitForAsync(WebhookOutbox outbox, Func<OutboundWebhookState, bool> done)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var states = await outbox.StatesAsync("ws_default", "cron_run", ["run_42"], timeout.Token);
            if (states.TryGetValue("run_42", out var state) && done(state))
            {
                return state;
            }
            await Task.Delay(50, timeout.Token);
        }
    }
}
