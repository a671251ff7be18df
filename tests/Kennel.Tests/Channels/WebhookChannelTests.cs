using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Kennel.Agents.Providers;
using Kennel.Contracts.ApiKeys;
using Kennel.Testing;
using Kennel.Tests.Config;
using Kennel.Tests.Delivery;

namespace Kennel.Tests.Channels;

/// <summary>
/// The generic webhook channel over real HTTP: a message POSTed signed the Standard Webhooks way reaches the agent (a
/// scripted provider), and its answer is POSTed, signed the same way, to a receiver that checks with its own HMAC code.
/// </summary>
public sealed class WebhookChannelTests : IAsyncLifetime
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    private ScriptedProvider model = null!;
    private WebhookReceiverHost receiver = null!;

    public async Task InitializeAsync()
    {
        model = await ScriptedProvider.StartAsync();
        receiver = await WebhookReceiverHost.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await model.DisposeAsync();
        await receiver.DisposeAsync();
    }

    private static HttpRequestMessage Signed(string path, string id, string body, DateTimeOffset at, string secret = Secret)
    {
        var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", $"v1,{signature}");
        return request;
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_signed_message_is_answered_with_a_signed_POST_once_and_forged_or_stale_ones_are_refused(string store)
    {
        await using var server = await ChannelApi.StartServerAsync(store, model);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write);
        await client.SetConfigOkAsync("channels.support",
            $$"""{"kind": "webhook", "allow": ["alice"], "url": "{{receiver.Url}}", "signingSecret": "{{Secret}}"}""");
        var path = (await client.ChannelStatusAsync()).Channels.Single().InboundPath;
        using var anon = server.Client();
        const string body = """{"chat": "ticket-7", "sender": "alice", "text": "where is my parcel?"}""";

        using (var forged = await anon.SendAsync(Signed(path, "msg_1", body, DateTimeOffset.UtcNow, "whsec_" + Convert.ToBase64String(new byte[32]))))
        {
            forged.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        using (var stale = await anon.SendAsync(Signed(path, "msg_1", body, DateTimeOffset.UtcNow.AddMinutes(-10))))
        {
            stale.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        (await client.ListRunsAsync()).Items.ShouldBeEmpty();

        model.ThenEvents(ModelScript.Answer("It left the depot."));
        using (var first = await anon.SendAsync(Signed(path, "msg_1", body, DateTimeOffset.UtcNow)))
        {
            first.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        using (var again = await anon.SendAsync(Signed(path, "msg_1", body, DateTimeOffset.UtcNow)))
        {
            (await again.Content.ReadAsStringAsync()).ShouldContain("\"status\":\"duplicate\"");
        }
        using (var stranger = await anon.SendAsync(Signed(path, "msg_2", """{"chat": "ticket-8", "sender": "mallory", "text": "hi"}""", DateTimeOffset.UtcNow)))
        {
            (await stranger.Content.ReadAsStringAsync()).ShouldContain("\"status\":\"ignored\"");
        }

        await receiver.WaitForRequestsAsync(1);
        var sent = receiver.Requests.Single();
        WebhookReceiverHost.SignatureIsValid(sent, Secret).ShouldBeTrue();
        sent.Body.ShouldContain("\"type\":\"message.send\"");
        sent.Body.ShouldContain("\"chat\":\"ticket-7\"");
        sent.Body.ShouldContain("\"text\":\"It left the depot.\"");
        var history = await ChannelApi.EventuallyAsync(() => client.ChannelHistoryAsync("?chat=ticket-7"), page => page.Items.Any(m => m.Status == "sent"));
        history.Items[0].PlatformMessageId.ShouldBe(sent.Id);
        var status = (await client.ChannelStatusAsync()).Channels.Single();
        (status.Received, status.Ignored, status.Sent, status.Health).ShouldBe((1L, 1L, 1L, "ok"));
        (await client.ListRunsAsync()).Items.Count.ShouldBe(1);
    }
}
