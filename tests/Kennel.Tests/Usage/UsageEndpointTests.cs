using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Dapper;
using Kennel.Agents.Models;
using Kennel.Agents.Providers;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.ControlPlane.Usage;
using Kennel.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.Tests.Usage;

/// <summary><c>GET /v1/usage</c> and <c>/v1/usage/conversations</c>: sums of the ledger, validation with a field, tenancy.</summary>
public sealed class UsageEndpointTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    private static readonly ModelInfo Model = new("openai", "gpt-test", 128_000, false, new ModelPrices(2m, 8m, 0.5m, 0m));

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Usage_sums_the_workspaces_own_calls_by_model(string store)
    {
        var server = await servers.GetAsync(store);
        var (workspace, other) = ($"u-{Guid.NewGuid():N}"[..20], $"u-{Guid.NewGuid():N}"[..20]);
        using var admin = server.Client();
        using var client = server.Client((await admin.CreateApiKeyAsync(workspace, Scopes.Read)).Key);
        await admin.CreateApiKeyAsync(other, Scopes.Read);
        await RecordAsync(server, workspace, new TokenUsage(1_000_000, 0, 0, 0), "2026-09-01T08:00:00Z", "cnv_1");
        await RecordAsync(server, workspace, new TokenUsage(0, 1_000_000, 0, 0), "2026-09-02T08:00:00Z", "cnv_2");
        await RecordAsync(server, other, new TokenUsage(5_000_000, 0, 0, 0), "2026-09-01T09:00:00Z", "cnv_1");

        var report = await client.GetFromJsonAsync("/v1/usage?from=2026-09-01&to=2026-09-03&groupBy=model", KennelJson.Default.UsageReport);
        report!.Groups.Single().Key.ShouldBe("openai/gpt-test");
        report.Total.Calls.ShouldBe(2);
        report.Total.CostUsd.ShouldBe(10m); // $2 for a million input tokens, $8 for a million output tokens
        var conversations = await client.GetFromJsonAsync("/v1/usage/conversations?from=2026-09-01&to=2026-09-03", KennelJson.Default.ConversationUsageReport);
        conversations!.Conversations.Select(c => (c.ConversationId, c.Usage.CostUsd)).ShouldBe([("cnv_2", 8m), ("cnv_1", 2m)]);
    }

    [Theory]
    [InlineData("period=year", "period")]
    [InlineData("period=day&from=2026-01-01", "period")]
    [InlineData("groupBy=conversation", "groupBy")]
    [InlineData("from=last-week", "from")]
    [InlineData("from=2026-01-02&to=2026-01-01", "from")]
    [InlineData("from=2024-01-01&to=2026-01-01", "from")]
    public async Task A_bad_query_is_a_problem_naming_the_field(string query, string field)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read);
        using var response = await client.GetAsync($"/v1/usage?{query}");
        await response.ShouldBeProblemAsync(400, "invalid_request", field);
    }

    [Fact]
    public async Task Usage_needs_mcp_read_and_a_key()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var anonymous = server.Client(null);
        (await anonymous.GetAsync("/v1/usage")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        using var chatOnly = await server.NewWorkspaceClientAsync(Scopes.Chat);
        (await chatOnly.GetAsync("/v1/usage")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        using var limit = await (await server.NewWorkspaceClientAsync(Scopes.Read)).GetAsync("/v1/usage/conversations?limit=0");
        await limit.ShouldBeProblemAsync(400, "invalid_request", "limit");
    }

    private static async Task RecordAsync(TestServer server, string workspace, TokenUsage usage, string at, string conversation)
    {
        var id = await server.Server.Database.ReadAsync(c => c.QuerySingleAsync<string>("SELECT id FROM workspaces WHERE name = @workspace", new { workspace }),
            CancellationToken.None);
        await server.Server.Services.GetRequiredService<UsageLedger>().RecordAsync(new ModelCall(id, "main", Model, usage, ModelCallOutcome.Ok,
            TimeSpan.FromSeconds(1), DateTimeOffset.Parse(at, CultureInfo.InvariantCulture))
        { ConversationId = conversation }, CancellationToken.None);
    }
}
