using System.Net;
using System.Reflection;
using Kennel.ControlPlane.Mcp;
using Kennel.Testing;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Server;
using static Kennel.Mcp.Tests.RawMcp;

namespace Kennel.Mcp.Tests;

/// <summary>When an MCP session at the real endpoint ends on its own, and every tool declaring the scopes it needs.</summary>
public sealed class SessionTests
{
    [Fact]
    public async Task An_idle_session_is_ended_and_one_with_a_request_in_flight_is_kept()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(TestStore.Sqlite, s => s with { Time = clock, EmbeddedWorker = false });
        using var client = server.Client();
        var idle = await OpenSessionAsync(client);
        var busy = await OpenSessionAsync(client);
        var get = new HttpRequestMessage(HttpMethod.Get, "/mcp") { Headers = { { "Mcp-Session-Id", busy }, { "Accept", "text/event-stream" } } };
        using var stream = await client.SendAsync(get, HttpCompletionOption.ResponseHeadersRead);
        stream.StatusCode.ShouldBe(HttpStatusCode.OK);
        var owners = server.Server.Services.GetRequiredService<McpSessionOwners>();

        clock.Advance(server.Settings.Mcp.IdleTimeout + TimeSpan.FromMinutes(1));
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (owners.Count > 1)
        {
            await Task.Delay(50, wait.Token);
        }

        using var ended = await client.SendAsync(Post(ListTools, idle));
        ended.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        using var kept = await client.SendAsync(Post(ListTools, busy));
        kept.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public void Every_fleet_tool_declares_the_scopes_it_needs()
    {
        var tools = typeof(FleetTools).GetMethods().Concat(typeof(DaemonTools).GetMethods())
            .Where(m => m.GetCustomAttribute<McpServerToolAttribute>() is not null).ToList();

        tools.Count.ShouldBe(16);
        tools.ToDictionary(m => m.GetCustomAttribute<McpServerToolAttribute>()!.Name!, m => string.Join(' ', ToolGuard.RequiredScopes(m)))
            .ShouldBe(new Dictionary<string, string>
            {
                ["list-sessions"] = "mcp:read",
                ["get-session"] = "mcp:read",
                ["wait-for-session"] = "mcp:read",
                ["list-snapshots"] = "mcp:read",
                ["build-snapshot"] = "mcp:write",
                ["fleet-overview"] = "mcp:read",
                ["create-session"] = "mcp:write",
                ["cancel-session"] = "mcp:write",
                ["list-workers"] = "mcp:admin",
                ["list-daemons"] = "mcp:read",
                ["get-daemon"] = "mcp:read",
                ["cost-summary"] = "mcp:read",
                ["create-daemon"] = "mcp:write",
                ["update-daemon"] = "mcp:write",
                ["delete-daemon"] = "mcp:write",
                ["trigger-webhook"] = "mcp:write",
            }, ignoreOrder: true);
    }
}
