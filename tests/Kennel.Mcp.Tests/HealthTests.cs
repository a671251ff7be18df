using System.Net;
using System.Text.Json;
using Kennel.Testing;

namespace Kennel.Mcp.Tests;

/// <summary><c>GET /mcp/health</c>, unauthenticated: ok when the store answers and a worker is healthy, degraded otherwise.</summary>
public sealed class HealthTests(ServersWithWorker withWorker, ServersWithoutWorkers withoutWorkers)
    : IClassFixture<ServersWithWorker>, IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_server_with_a_healthy_worker_is_ok_without_a_key(string store)
    {
        var server = await withWorker.GetAsync(store);

        // The embedded worker enrolls and polls just after the server starts; until then the fleet is rightly degraded.
        var (status, json) = await HealthAsync(server);
        for (var i = 0; i < 100 && status != HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
            (status, json) = await HealthAsync(server);
        }

        status.ShouldBe(HttpStatusCode.OK);
        json.GetProperty("status").GetString().ShouldBe("ok");
        json.GetProperty("protocol").GetString().ShouldBe("2025-11-25");
        json.GetProperty("version").GetString().ShouldNotBeNullOrEmpty();
        json.TryGetProperty("error", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task A_server_without_workers_is_degraded_and_says_why()
    {
        var server = await withoutWorkers.GetAsync(TestStore.Sqlite);

        var (status, json) = await HealthAsync(server);

        status.ShouldBe(HttpStatusCode.ServiceUnavailable);
        json.GetProperty("status").GetString().ShouldBe("degraded");
        json.GetProperty("protocol").GetString().ShouldBe("2025-11-25");
        json.GetProperty("error").GetString()!.ShouldContain("No workers are enrolled");
    }

    private static async Task<(HttpStatusCode Status, JsonElement Json)> HealthAsync(TestServer server)
    {
        using var client = server.Client(null);
        using var response = await client.GetAsync("/mcp/health");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }
}
