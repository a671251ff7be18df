using System.Globalization;
using Dapper;
using Kennel.Agents.Models;
using Kennel.Agents.Providers;
using Kennel.Contracts.ApiKeys;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Usage;
using Kennel.Store;
using Kennel.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.Tests.Usage;

/// <summary>
/// The daily roll-ups of the usage ledger (<c>usage_daily</c>): written with each call in its transaction, built from the
/// calls already there by migration 0018, and read by usage_cost for whole days with the ledger for the part-days, so
/// every answer is the one the ledger alone gives.
/// </summary>
public sealed class UsageRollUpTests
{
    private static readonly ModelInfo[] Models =
    [
        new("openai", "gpt-test", 128_000, false, new ModelPrices(2.50m, 10m, 1.25m, 0m)),
        new("anthropic", "claude-test", 200_000, true, new ModelPrices(3m, 15m, 0.3m, 3.75m)),
        new("local", "free", 32_768, false, ModelPrices.Unknown),
    ];

    private static readonly string[] Agents = ["main", "helper", "coder"];
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-10-01T00:00:00Z", CultureInfo.InvariantCulture);

    /// <summary>What the roll-ups hold, and what they must hold: the ledger's rows summed by workspace, day, agent, provider and model.</summary>
    private const string RollUps =
        "SELECT workspace_id, day, agent, provider, model, calls, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_nano_usd " +
        "FROM usage_daily ORDER BY workspace_id, day, agent, provider, model";

    private const string FromCalls =
        "SELECT workspace_id, at / 86400000 AS day, agent, provider, model, COUNT(*) AS calls, CAST(SUM(input_tokens) AS BIGINT) AS input_tokens, " +
        "CAST(SUM(output_tokens) AS BIGINT) AS output_tokens, CAST(SUM(cache_read_tokens) AS BIGINT) AS cache_read_tokens, " +
        "CAST(SUM(cache_write_tokens) AS BIGINT) AS cache_write_tokens, CAST(SUM(cost_nano_usd) AS BIGINT) AS cost_nano_usd FROM model_calls " +
        "GROUP BY workspace_id, at / 86400000, agent, provider, model ORDER BY workspace_id, day, agent, provider, model";

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task After_many_calls_across_agents_models_and_days_the_roll_ups_and_every_range_equal_the_ledger(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false });
        var (first, second) = (await WorkspaceAsync(server, "roll-a"), await WorkspaceAsync(server, "roll-b"));
        var ledger = server.Server.Services.GetRequiredService<UsageLedger>();
        var random = new Random(7);
        for (var i = 0; i < 300; i++)
        {
            await ledger.RecordAsync(RandomCall(random, i % 4 == 0 ? second : first), CancellationToken.None);
        }

        (await RowsAsync(server.Server.Database, RollUps)).ShouldBe(await RowsAsync(server.Server.Database, FromCalls));
        var usage = server.Server.Services.GetRequiredService<UsageStore>();
        var ranges = new (string From, string To)[]
        {
            ("2026-10-01T00:00:00Z", "2026-10-11T00:00:00Z"), // whole days only
            ("2026-10-02T07:30:00Z", "2026-10-09T16:45:00Z"), // part-days at both ends
            ("2026-10-03T00:00:00Z", "2026-10-06T12:00:00Z"), // a part-day at the end
            ("2026-10-03T12:00:00Z", "2026-10-06T00:00:00Z"), // a part-day at the start
            ("2026-10-04T03:00:00Z", "2026-10-04T21:00:00Z"), // within one day
            ("2026-10-04T18:00:00Z", "2026-10-05T06:00:00Z"), // across midnight, no whole day
            ("2026-10-05T00:00:00Z", "2026-10-06T00:00:00Z"), // exactly one day
            ("2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z"), // before every call
        };
        foreach (var (from, to) in ranges)
        {
            var (startMs, endMs) = (Ms(from), Ms(to));
            foreach (var groupBy in new[] { UsageService.ByDay, UsageService.ByModel, UsageService.ByAgent })
            {
                var rolled = await usage.SumAsync(first, startMs, endMs, groupBy, CancellationToken.None);
                var counted = await usage.SumCallsAsync(first, startMs, endMs, groupBy, CancellationToken.None);
                Flat(rolled).ShouldBe(Flat(counted), $"{from} to {to} by {groupBy}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_ledger_write_that_is_rolled_back_leaves_the_roll_ups_as_they_were(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false });
        var workspaceId = await WorkspaceAsync(server, "roll-back");
        var ledger = server.Server.Services.GetRequiredService<UsageLedger>();
        var call = new ModelCall(workspaceId, "main", Models[0], new TokenUsage(1_000, 100, 0, 0), ModelCallOutcome.Ok, TimeSpan.FromSeconds(1),
            Start.AddHours(10));
        await ledger.RecordAsync(call, CancellationToken.None);
        var before = await RowsAsync(server.Server.Database, RollUps);

        // The step's other write fails after the call was written: the transaction, roll-up included, is undone.
        await Should.ThrowAsync<InvalidOperationException>(() => server.Server.Database.WriteAsync<int>(async (connection, transaction) =>
        {
            await ledger.InsertAsync(connection, transaction, call, CancellationToken.None);
            await ledger.InsertAsync(connection, transaction, call with { Agent = "helper" }, CancellationToken.None);
            throw new InvalidOperationException("the step's commit failed");
        }, CancellationToken.None));

        (await RowsAsync(server.Server.Database, RollUps)).ShouldBe(before);
        before.Single().ShouldContain("calls=1");
        (await RowsAsync(server.Server.Database, FromCalls)).ShouldBe(before);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Migration_0018_builds_the_roll_ups_of_the_calls_a_store_already_holds(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false });
        var database = server.Server.Database;
        var (first, second) = (await WorkspaceAsync(server, "backfill-a"), await WorkspaceAsync(server, "backfill-b"));
        var ledger = server.Server.Services.GetRequiredService<UsageLedger>();
        var random = new Random(11);
        for (var i = 0; i < 120; i++)
        {
            await ledger.RecordAsync(RandomCall(random, i % 3 == 0 ? second : first), CancellationToken.None);
        }

        // The store as it was at migration 0017: the ledger's rows, and no roll-ups.
        await database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync("DROP TABLE usage_daily", transaction: transaction);
            return await connection.ExecuteAsync("DELETE FROM schema_migrations WHERE version = 18", transaction: transaction);
        }, CancellationToken.None);
        (await Migrator.MigrateAsync(database, CancellationToken.None)).ShouldBe(1);

        var rollUps = await RowsAsync(database, RollUps);
        rollUps.Count.ShouldBeGreaterThan(20);
        rollUps.ShouldBe(await RowsAsync(database, FromCalls));
        // And the calls after it add to the rows it built.
        await ledger.RecordAsync(RandomCall(random, first), CancellationToken.None);
        (await RowsAsync(database, RollUps)).ShouldBe(await RowsAsync(database, FromCalls));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Usage_cost_counts_only_the_callers_workspace_on_the_same_days_agents_and_models(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false });
        var (mine, theirs) = (await WorkspaceAsync(server, "iso-mine"), await WorkspaceAsync(server, "iso-theirs"));
        var ledger = server.Server.Services.GetRequiredService<UsageLedger>();
        foreach (var hours in new[] { 1, 30, 55 })
        {
            await ledger.RecordAsync(new ModelCall(mine, "main", Models[0], new TokenUsage(100, 10, 0, 0), ModelCallOutcome.Ok, TimeSpan.FromSeconds(1),
                Start.AddHours(hours)), CancellationToken.None);
            await ledger.RecordAsync(new ModelCall(theirs, "main", Models[0], new TokenUsage(9_000, 900, 0, 0), ModelCallOutcome.Ok, TimeSpan.FromSeconds(1),
                Start.AddHours(hours)), CancellationToken.None);
        }
        var service = server.Server.Services.GetRequiredService<UsageService>();
        var caller = new Caller(mine, "iso-mine", new HashSet<string> { Scopes.Read }, "test");

        foreach (var (from, to) in new[] { ("2026-10-01", "2026-10-04"), ("2026-10-01T12:00:00Z", "2026-10-03T12:00:00Z") })
        {
            var report = await service.CostAsync(caller, null, from, to, UsageService.ByModel, CancellationToken.None);
            report.Groups.Single().Key.ShouldBe("openai/gpt-test");
            report.Total.InputTokens.ShouldBe(from.Length == 10 ? 300 : 200);
            report.Total.OutputTokens.ShouldBe(from.Length == 10 ? 30 : 20);
        }
    }

    private static ModelCall RandomCall(Random random, string workspaceId) =>
        new(workspaceId, Agents[random.Next(Agents.Length)], Models[random.Next(Models.Length)],
            new TokenUsage(random.Next(1, 20_000), random.Next(0, 2_000), random.Next(0, 5_000), random.Next(0, 500)),
            random.Next(10) == 0 ? ModelCallOutcome.Error : ModelCallOutcome.Ok, TimeSpan.FromMilliseconds(random.Next(100, 3_000)),
            Start.AddMilliseconds(random.NextInt64(10L * 86_400_000)));

    private static long Ms(string instant) => DateTimeOffset.Parse(instant, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();

    private static List<string> Flat(List<UsageStore.UsageRow> rows) =>
        [.. rows.Select(r => $"{r.Grp} {r.Calls} {r.Input} {r.Output} {r.CacheRead} {r.CacheWrite} {r.CostNanoUsd}")];

    private static async Task<List<string>> RowsAsync(Database database, string sql) =>
        await database.ReadAsync(async connection => (await connection.QueryAsync(sql)).Select(row =>
            string.Join(' ', ((IDictionary<string, object>)row).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key}={c.Value}")))).ToList(),
            CancellationToken.None);

    private static async Task<string> WorkspaceAsync(TestServer server, string name)
    {
        using var admin = server.Client();
        await admin.CreateApiKeyAsync(name, Scopes.Read);
        return await server.Server.Database.ReadAsync(c => c.QuerySingleAsync<string>("SELECT id FROM workspaces WHERE name = @name", new { name }),
            CancellationToken.None);
    }
}
