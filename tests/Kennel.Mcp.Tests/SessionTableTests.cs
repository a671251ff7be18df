using System.Reflection;
using Kennel.ControlPlane.Mcp;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Server;

namespace Kennel.Mcp.Tests;

/// <summary>The pure parts: idle eviction on a clock the test moves, and every tool declaring its scope.</summary>
public sealed class SessionTableTests
{
    [Fact]
    public async Task An_idle_session_is_evicted_and_a_busy_one_is_kept()
    {
        var clock = new ManualClock();
        await using var table = new McpSessionTable(new McpHttpOptions { IdleTimeout = TimeSpan.FromMinutes(30) }, NullLoggerFactory.Instance, clock);
        var idle = table.Create("key-a", new McpServerOptions(), EmptyServices.Instance);
        var busy = table.Create("key-a", new McpServerOptions(), EmptyServices.Instance);
        using var inFlight = busy.Enter();

        clock.Advance(TimeSpan.FromMinutes(29));
        await table.EvictIdleAsync();
        table.Find(idle.Id, "key-a").ShouldNotBeNull();

        clock.Advance(TimeSpan.FromMinutes(2));
        await table.EvictIdleAsync();
        table.Find(idle.Id, "key-a").ShouldBeNull();
        table.Find(busy.Id, "key-a").ShouldNotBeNull();
    }

    [Fact]
    public async Task A_session_is_found_only_by_its_owner_and_ids_are_unique()
    {
        await using var table = new McpSessionTable(new McpHttpOptions(), NullLoggerFactory.Instance, TimeProvider.System);
        var a = table.Create("key-a", new McpServerOptions(), EmptyServices.Instance);
        var b = table.Create("key-a", new McpServerOptions(), EmptyServices.Instance);

        a.Id.ShouldNotBe(b.Id);
        table.Find(a.Id, "key-b").ShouldBeNull();
        (await table.EndAsync(a.Id, "key-b")).ShouldBeFalse();
        (await table.EndAsync(a.Id, "key-a")).ShouldBeTrue();
        table.Find(a.Id, "key-a").ShouldBeNull();
    }

    [Fact]
    public void Every_fleet_tool_declares_the_scopes_it_needs()
    {
        var tools = typeof(FleetTools).GetMethods().Concat(typeof(DaemonTools).GetMethods())
            .Where(m => m.GetCustomAttribute<McpServerToolAttribute>() is not null).ToList();

        tools.Count.ShouldBe(15);
        tools.ToDictionary(m => m.GetCustomAttribute<McpServerToolAttribute>()!.Name!, m => string.Join(' ', ToolGuard.RequiredScopes(m)))
            .ShouldBe(new Dictionary<string, string>
            {
                ["list-sessions"] = "mcp:read",
                ["get-session"] = "mcp:read",
                ["wait-for-session"] = "mcp:read",
                ["list-snapshots"] = "mcp:read",
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

    private sealed class ManualClock : TimeProvider
    {
        private long ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
