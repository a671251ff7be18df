using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Config;

namespace Kennel.Tests.Config;

/// <summary>The config API as a client calls it, with raw JSON values.</summary>
internal static class ConfigApi
{
    public static Task<HttpResponseMessage> SetConfigAsync(this HttpClient client, string path, string valueJson, string? baseHash = null) =>
        client.SendAsync(new HttpRequestMessage(HttpMethod.Patch, "/v1/config")
        {
            Content = new StringContent(
                $$"""{"path": {{JsonSerializer.Serialize(path)}}, "value": {{valueJson}}{{(baseHash is null ? "" : $", \"baseHash\": \"{baseHash}\"")}}}""",
                Encoding.UTF8, "application/json"),
        });

    public static async Task<ConfigWrite> SetConfigOkAsync(this HttpClient client, string path, string valueJson, string? baseHash = null)
    {
        using var response = await client.SetConfigAsync(path, valueJson, baseHash);
        ((int)response.StatusCode).ShouldBe(200, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.ConfigWrite))!;
    }

    public static async Task<ConfigValue> GetConfigAsync(this HttpClient client, string? path = null)
    {
        using var response = await client.GetAsync(path is null ? "/v1/config" : $"/v1/config?path={Uri.EscapeDataString(path)}");
        ((int)response.StatusCode).ShouldBe(200, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.ConfigValue))!;
    }

    public static async Task<ConfigVersionList> ConfigVersionsAsync(this HttpClient client) =>
        (await client.GetFromJsonAsync("/v1/config/versions", KennelJson.Default.ConfigVersionList))!;
}
