using Dapper;
using Kennel.Agents.Models;
using Kennel.Agents.Providers;
using Kennel.ControlPlane.Usage;
using Kennel.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.Tests.Usage;

public sealed class UsageLedgerTests
{
    private static readonly ModelInfo Priced = new("openai", "gpt-test", 128_000, false, new ModelPrices(2.50m, 10m, 1.25m, 0m));

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_model_call_is_kept_with_its_tokens_and_its_cost_at_the_prices_of_the_call(string store)
    {
        await using var server = await TestServer.StartAsync(store);
        var database = server.Server.Database;
        var workspaceId = await database.ReadAsync(c => c.QuerySingleAsync<string>("SELECT id FROM workspaces WHERE name = 'default'"), CancellationToken.None);
        var ledger = server.Server.Services.GetRequiredService<UsageLedger>();

        // 1,000 input at $2.50/M, 200 output at $10/M, 3,000 cache reads at $1.25/M: $0.0025 + $0.002 + $0.00375.
        var call = new ModelCall(workspaceId, "main", Priced, new TokenUsage(1_000, 200, 3_000, 0), ModelCallOutcome.Ok,
            TimeSpan.FromMilliseconds(850), DateTimeOffset.UtcNow)
        { ConversationId = "cnv_1", RunId = "run_1" };
        var id = await ledger.RecordAsync(call, CancellationToken.None);

        var row = await database.ReadAsync(c => c.QuerySingleAsync<(string Model, long Input, long Output, long CacheRead, long Cost, string Outcome)>(
            "SELECT model, input_tokens, output_tokens, cache_read_tokens, cost_nano_usd, outcome FROM model_calls WHERE id = @id", new { id }),
            CancellationToken.None);
        row.ShouldBe(("gpt-test", 1_000L, 200L, 3_000L, 8_250_000L, "ok"));
    }

    [Fact]
    public async Task A_call_of_a_workspace_that_does_not_exist_is_refused_by_the_store()
    {
        await using var server = await TestServer.StartAsync(TestStore.Sqlite);
        var ledger = server.Server.Services.GetRequiredService<UsageLedger>();
        var call = new ModelCall("ws_missing", "main", Priced, TokenUsage.None, ModelCallOutcome.Error, TimeSpan.Zero, DateTimeOffset.UtcNow);
        await Should.ThrowAsync<System.Data.Common.DbException>(() => ledger.RecordAsync(call, CancellationToken.None));
    }
}
