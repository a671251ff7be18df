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
}
