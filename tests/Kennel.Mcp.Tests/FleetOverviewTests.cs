using System.Text.Json;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Workers;
using Kennel.Testing;

namespace Kennel.Mcp.Tests;

/// <summary>
/// <c>fleet-overview</c> shows a tenant its own workspace and the capacity open to it, never a figure that moves with
/// another workspace's activity; installation admins see the whole fleet, workspace by workspace.
/// </summary>
public sealed class FleetOverviewTests
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_tenant_sees_its_own_load_and_nothing_of_another_workspace_while_an_admin_sees_all(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false });
        using var admin = server.Client();
        using var worker = await ProtocolWorker.EnrollAsync(admin, new WorkerCapacity(8, 8192, 4));
        var watcher = $"watch-{Guid.NewGuid():N}"[..20];
        var busy = $"busy-{Guid.NewGuid():N}"[..20];
        var watcherKey = (await admin.CreateApiKeyAsync(watcher, Scopes.Read, Scopes.Write)).Key;
        using var busyClient = server.Client((await admin.CreateApiKeyAsync(busy, Scopes.Read, Scopes.Write)).Key);
        await using var tenant = await server.ConnectAsync(watcherKey);
        (await worker.PollAsync()).ShouldBeEmpty(); // healthy from its first poll on
        var before = await OverviewAsync(tenant);

        for (var i = 0; i < 5; i++)
        {
            await busyClient.RunScriptAsync("true");
        }
        (await worker.PollAsync()).Count.ShouldBe(4); // the busy workspace holds every slot, and one more waits

        var after = await OverviewAsync(tenant);
        after.GetRawText().ShouldBe(before.GetRawText());
        after.GetProperty("scope").GetString().ShouldBe("workspace");
        after.GetProperty("activeSessions").GetInt64().ShouldBe(0);
        after.GetProperty("queueDepth").GetInt64().ShouldBe(0);
        after.GetProperty("capacity").GetProperty("slots").GetInt64().ShouldBe(4);
        after.GetProperty("used").GetProperty("slots").GetInt64().ShouldBe(0);
        after.TryGetProperty("workspaces", out _).ShouldBeFalse();

        await using var installationAdmin = await server.ConnectAsync(server.AdminKey);
        var fleet = await OverviewAsync(installationAdmin);
        fleet.GetProperty("scope").GetString().ShouldBe("fleet");
        fleet.GetProperty("activeSessions").GetInt64().ShouldBe(4);
        fleet.GetProperty("queueDepth").GetInt64().ShouldBe(1);
        fleet.GetProperty("used").GetProperty("slots").GetInt64().ShouldBe(4);
        var load = fleet.GetProperty("workspaces").EnumerateArray().Single(w => w.GetProperty("workspace").GetString() == busy);
        load.GetProperty("usage").GetProperty("runningSessions").GetInt64().ShouldBe(4);
        load.GetProperty("usage").GetProperty("queuedSessions").GetInt64().ShouldBe(1);
    }

    [Fact]
    public async Task A_tenant_sees_the_capacity_open_to_it_within_its_limits()
    {
        await using var server = await TestServer.StartAsync(TestStore.Sqlite, s => s with { EmbeddedWorker = false });
        using var admin = server.Client();
        using var worker = await ProtocolWorker.EnrollAsync(admin, new WorkerCapacity(8, 8192, 4));
        var name = $"lim-{Guid.NewGuid():N}"[..20];
        var key = (await admin.CreateApiKeyAsync(name, Scopes.Read, Scopes.Write)).Key;
        using (var set = await admin.PutAsync($"/v1/workspaces/{name}/quota",
            new StringContent("""{"maxRunningSessions": 2, "maxVcpus": 3}""", System.Text.Encoding.UTF8, "application/json")))
        {
            set.EnsureSuccessStatusCode();
        }
        await using var tenant = await server.ConnectAsync(key);
        using var client = server.Client(key);
        await client.RunScriptAsync("true");
        await worker.PollAsync();

        var overview = await OverviewAsync(tenant);

        overview.GetProperty("capacity").GetProperty("slots").GetInt64().ShouldBe(2);
        overview.GetProperty("capacity").GetProperty("vcpus").GetInt64().ShouldBe(3);
        overview.GetProperty("used").GetProperty("slots").GetInt64().ShouldBe(1);
        overview.GetProperty("free").GetProperty("slots").GetInt64().ShouldBe(1);
        overview.GetProperty("free").GetProperty("vcpus").GetInt64().ShouldBe(2);
        overview.GetProperty("limits").GetProperty("maxRunningSessions").GetInt32().ShouldBe(2);
    }

    private static async Task<JsonElement> OverviewAsync(ModelContextProtocol.Client.McpClient client)
    {
        var result = await client.CallAsync("fleet-overview");
        result.IsError.ShouldNotBe(true);
        return result.StructuredContent!.Value;
    }
}
