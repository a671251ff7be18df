using System.Text.Json;
using Kennel.Agents.Providers;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Usage;
using Kennel.ControlPlane.Usage;
using Kennel.Testing;

namespace Kennel.Mcp.Tests.Agents;

/// <summary><c>usage_cost</c> and <c>sessions_usage</c> over rows recorded through the real ledger, on both stores.</summary>
public sealed class UsageToolTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Usage_cost_sums_the_ledger_by_day_model_and_agent_and_never_counts_another_workspace(string store)
    {
        var server = await servers.GetAsync(store);
        var (workspace, other) = (AgentMcp.NewWorkspace(), AgentMcp.NewWorkspace());
        var key = await server.NewKeyAsync(workspace, Scopes.Read);
        await server.NewKeyAsync(other, Scopes.Read);
        var (id, otherId) = (await server.WorkspaceIdAsync(workspace), await server.WorkspaceIdAsync(other));
        var calls = new[]
        {
            await server.RecordAsync(id, "main", Ledger.Gpt, new TokenUsage(1_000, 200, 3_000, 0), "2026-11-01T10:00:00Z", "cnv_a"),
            await server.RecordAsync(id, "main", Ledger.Claude, new TokenUsage(500, 100, 0, 400), "2026-11-01T23:59:59Z", "cnv_b"),
            await server.RecordAsync(id, "helper", Ledger.Gpt, new TokenUsage(2_000, 0, 0, 0), "2026-11-02T00:00:00Z", "cnv_a", ModelCallOutcome.Error),
        };
        await server.RecordAsync(id, "helper", Ledger.Gpt, new TokenUsage(7, 7, 7, 7), "2026-11-03T00:00:00Z", "cnv_c"); // after the range
        await server.RecordAsync(otherId, "main", Ledger.Gpt, new TokenUsage(1_000_000, 1_000_000, 0, 0), "2026-11-01T12:00:00Z", "cnv_a");
        await using var client = await server.ConnectAgentAsync(workspace, key);

        var byDay = await ReportAsync(client, "day");
        byDay.Groups.Select(g => (g.Key, g.Usage.Calls)).ShouldBe([("2026-11-01", 2L), ("2026-11-02", 1L)]);
        byDay.Total.ShouldBe(new UsageTotals
        {
            Calls = 3,
            InputTokens = 3_500,
            OutputTokens = 300,
            CacheReadTokens = 3_000,
            CacheWriteTokens = 400,
            CostUsd = calls.Sum(c => c.CostNanoUsd) / 1_000_000_000m,
        });
        byDay.Total.CostUsd.ShouldBe(0.00825m + 0.0045m + 0.005m); // 1,000 in, 200 out, 3,000 cached; 500 in, 100 out, 400 cache writes; 2,000 in

        var byModel = await ReportAsync(client, "model");
        byModel.Groups.Select(g => (g.Key, g.Usage.InputTokens)).ShouldBe([("anthropic/claude-test", 500L), ("openai/gpt-test", 3_000L)]);
        var byAgent = await ReportAsync(client, "agent");
        byAgent.Groups.Select(g => (g.Key, g.Usage.Calls, g.Usage.CostUsd)).ShouldBe(
            [("helper", 1L, calls[2].CostNanoUsd / 1_000_000_000m), ("main", 2L, (calls[0].CostNanoUsd + calls[1].CostNanoUsd) / 1_000_000_000m)]);
        byAgent.Total.ShouldBe(byDay.Total);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Sessions_usage_sums_each_conversation_of_the_range_costliest_first(string store)
    {
        var server = await servers.GetAsync(store);
        var (workspace, other) = (AgentMcp.NewWorkspace(), AgentMcp.NewWorkspace());
        var key = await server.NewKeyAsync(workspace, Scopes.Read);
        await server.NewKeyAsync(other, Scopes.Read);
        var (id, otherId) = (await server.WorkspaceIdAsync(workspace), await server.WorkspaceIdAsync(other));
        await server.RecordAsync(id, "main", Ledger.Gpt, new TokenUsage(1_000, 200, 0, 0), "2026-10-05T10:00:00Z", "cnv_a");
        await server.RecordAsync(id, "main", Ledger.Gpt, new TokenUsage(3_000, 0, 0, 0), "2026-10-06T10:00:00Z", "cnv_a");
        await server.RecordAsync(id, "main", Ledger.Claude, new TokenUsage(10, 10, 0, 0), "2026-10-06T11:00:00Z", "cnv_b");
        await server.RecordAsync(id, "main", Ledger.Claude, new TokenUsage(10, 10, 0, 0), "2026-10-06T11:00:00Z", null); // no conversation
        await server.RecordAsync(otherId, "main", Ledger.Gpt, new TokenUsage(9_999, 0, 0, 0), "2026-10-06T10:00:00Z", "cnv_a");
        await using var client = await server.ConnectAgentAsync(workspace, key);

        var all = await UsageAsync(client, """{"from": "2026-10-01", "to": "2026-11-01"}""");
        all.Conversations.Select(c => (c.ConversationId, c.Usage.Calls, c.Usage.InputTokens)).ShouldBe([("cnv_a", 2L, 4_000L), ("cnv_b", 1L, 10L)]);
        all.Conversations[0].FirstCallAt.ShouldBe(DateTimeOffset.Parse("2026-10-05T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        all.Conversations[0].LastCallAt.ShouldBe(DateTimeOffset.Parse("2026-10-06T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        all.Total.Calls.ShouldBe(3);
        all.More.ShouldBeFalse();

        var first = await UsageAsync(client, """{"from": "2026-10-01", "to": "2026-11-01", "limit": 1}""");
        first.Conversations.Select(c => c.ConversationId).ShouldBe(["cnv_a"]);
        first.More.ShouldBeTrue();
        first.Total.Calls.ShouldBe(3);

        var one = await UsageAsync(client, """{"from": "2026-10-06", "to": "2026-10-07", "conversationId": "cnv_a"}""");
        one.Conversations.Single().Usage.InputTokens.ShouldBe(3_000);
        one.Total.InputTokens.ShouldBe(3_000);
    }

    [Fact]
    public async Task A_period_ends_now_and_day_starts_at_midnight_utc()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var workspace = AgentMcp.NewWorkspace();
        var key = await server.NewKeyAsync(workspace, Scopes.Read);
        var id = await server.WorkspaceIdAsync(workspace);
        var now = DateTimeOffset.UtcNow;
        await server.RecordAsync(id, "main", Ledger.Gpt, new TokenUsage(100, 0, 0, 0), now.AddSeconds(-1).ToString("O"), "cnv_now");
        await server.RecordAsync(id, "main", Ledger.Gpt, new TokenUsage(10, 0, 0, 0), now.AddDays(-3).ToString("O"), "cnv_old");
        await using var client = await server.ConnectAgentAsync(workspace, key);

        var day = Mcp.Read(await client.CallAsync("usage_cost", """{"period": "day"}"""), KennelJson.Default.UsageReport);
        day.From.ShouldBe(new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero));
        day.Total.InputTokens.ShouldBe(100);
        var week = Mcp.Read(await client.CallAsync("usage_cost", """{"period": "week"}"""), KennelJson.Default.UsageReport);
        week.Total.InputTokens.ShouldBe(110);
        week.Groups.Count.ShouldBe(2);
    }

    private static async Task<UsageReport> ReportAsync(ModelContextProtocol.Client.McpClient client, string groupBy) =>
        Mcp.Read(await client.CallAsync("usage_cost", $$"""{"from": "2026-11-01", "to": "2026-11-03", "groupBy": "{{groupBy}}"}"""), KennelJson.Default.UsageReport);

    private static async Task<ConversationUsageReport> UsageAsync(ModelContextProtocol.Client.McpClient client, string arguments) =>
        Mcp.Read(await client.CallAsync("sessions_usage", arguments), KennelJson.Default.ConversationUsageReport);
}
