using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Servers;

namespace Kennel.Testing;

/// <summary>The server routes of the REST API, as a user's script calls them.</summary>
public static class ServerApi
{
    public static async Task<ConnectionTest> TestConnectionAsync(this HttpClient client, TestConnectionRequest request)
    {
        using var response = await client.PostAsJsonAsync("/v1/servers/test", request, KennelJson.Default.TestConnectionRequest);
        await Api.EnsureAsync(response, StatusCodes.Status200OK);
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.ConnectionTest))!;
    }

    public static async Task<Server> AddServerAsync(this HttpClient client, AddServerRequest request)
    {
        using var response = await client.PostAsJsonAsync("/v1/servers", request, KennelJson.Default.AddServerRequest);
        await Api.EnsureAsync(response, StatusCodes.Status202Accepted);
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.Server))!;
    }

    /// <summary>
    /// add-server-ec2 with <see cref="FakeEc2"/>'s credentials as the workspace's AWS secrets; a secret access key set
    /// before (a wrong one, say) is left as it is.
    /// </summary>
    public static async Task<Server> AddServerEc2Async(this HttpClient client, AddServerEc2Request request)
    {
        await client.SetSecretAsync("AWS_ACCESS_KEY_ID", FakeEc2.AccessKeyId);
        if (!(await client.GetStringAsync("/v1/secrets")).Contains("AWS_SECRET_ACCESS_KEY", StringComparison.Ordinal))
        {
            await client.SetSecretAsync("AWS_SECRET_ACCESS_KEY", FakeEc2.SecretAccessKey);
        }
        using var response = await client.PostAsJsonAsync("/v1/servers/ec2", request, KennelJson.Default.AddServerEc2Request);
        await Api.EnsureAsync(response, StatusCodes.Status202Accepted);
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.Server))!;
    }

    public static async Task<ServerList> ListServersAsync(this HttpClient client) =>
        (await client.GetFromJsonAsync("/v1/servers", KennelJson.Default.ServerList))!;

    public static async Task<ServerSteps> ServerStepsAsync(this HttpClient client, string id) =>
        (await client.GetFromJsonAsync($"/v1/servers/{id}/steps", KennelJson.Default.ServerSteps))!;

    /// <summary>Polls the server until its status is ready or failed, for at most <paramref name="timeout"/>.</summary>
    public static async Task<Server> WaitForServerAsync(this HttpClient client, string id, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var server = (await client.GetFromJsonAsync($"/v1/servers/{id}", KennelJson.Default.Server))!;
            if (server.Status is ServerStatuses.Ready or ServerStatuses.Failed || DateTime.UtcNow > deadline)
            {
                return server;
            }
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Deletes the server when disposed, whatever its state, skipping any drain, so that a failed assertion does not leave
    /// it behind to collide (same address and port) with the next test that adds the same machine.
    /// </summary>
    public static IAsyncDisposable DeletesServer(this HttpClient client, string id) => new ServerCleanup(client, id);

    /// <summary>Polls until the server is gone (its removal finished), for at most <paramref name="timeout"/>; false when it is still there.</summary>
    public static async Task<bool> WaitForServerGoneAsync(this HttpClient client, string id, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using var response = await client.GetAsync($"/v1/servers/{id}");
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return true;
            }
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(200);
        }
    }

    private sealed class ServerCleanup(HttpClient client, string id) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            using var response = await client.DeleteAsync($"/v1/servers/{id}?skipDrain=true");
            if (response.StatusCode == System.Net.HttpStatusCode.Accepted)
            {
                await client.WaitForServerGoneAsync(id, TimeSpan.FromSeconds(60));
            }
        }
    }
}
