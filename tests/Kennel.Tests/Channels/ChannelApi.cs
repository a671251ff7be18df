using System.Net.Http.Json;
using Kennel.Agents.Providers;
using Kennel.Contracts;
using Kennel.Contracts.Channels;
using Kennel.ControlPlane.Channels;
using Kennel.Testing;

namespace Kennel.Tests.Channels;

/// <summary>The channels API as a client calls it.</summary>
internal static class ChannelApi
{
    /// <summary>A control plane whose agents answer through <paramref name="model"/> and whose channels may reach loopback.</summary>
    public static Task<TestServer> StartServerAsync(string store, ScriptedProvider model, ChannelOptions? channels = null, TimeProvider? clock = null) =>
        TestServer.StartAsync(store, s => s with
        {
            Time = clock ?? TimeProvider.System,
            EmbeddedWorker = false,
            Outbound = ControlPlane.Http.OutboundAddresses.Parse("127.0.0.1/32", out _)!,
            Providers = [new ProviderSettings("openai", ProviderKind.OpenAI, new Uri(model.Url, "v1"), "sk-test-channels")],
            Channels = channels ?? new ChannelOptions(),
        });

    public static async Task<ChannelStatusList> ChannelStatusAsync(this HttpClient client) =>
        (await client.GetFromJsonAsync("/v1/channels", KennelJson.Default.ChannelStatusList))!;

    public static async Task<ChannelMessagePage> ChannelHistoryAsync(this HttpClient client, string query = "") =>
        (await client.GetFromJsonAsync($"/v1/channels/history{query}", KennelJson.Default.ChannelMessagePage))!;

    public static async Task<ChannelActionResult> ActAsync(this HttpClient client, ChannelActionRequest request)
    {
        using var response = await client.PostAsJsonAsync("/v1/channels/actions", request, KennelJson.Default.ChannelActionRequest);
        ((int)response.StatusCode).ShouldBe(200, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.ChannelActionResult))!;
    }

    /// <summary>Polls until <paramref name="read"/> gives a value that satisfies <paramref name="done"/>; fails after a minute.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }
            await Task.Delay(25, timeout.Token);
        }
    }
}
