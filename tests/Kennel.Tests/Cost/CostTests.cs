using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Cost;

/// <summary><c>GET /v1/cost</c>: vCPU-seconds and CPU-seconds summed from the stored sessions, by daemon or by day.</summary>
public sealed class CostTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Cost_rolls_up_by_daemon_and_by_day_and_survives_a_restart(string store)
    {
        var dataDir = Directory.CreateTempSubdirectory("kennel-test-cost-");
        var database = store == TestStore.Postgres ? await TestStore.CreateDatabaseAsync() : null;
        try
        {
            string workspace;
            Contracts.Cost.CostSummary before;
            await using (var server = await TestServer.StartAsync(store, dataDir: dataDir.FullName, databaseUrl: database))
            {
                using var client = await server.NewWorkspaceClientAsync();
                await client.CreateDaemonAsync(DaemonApi.Webhook("two-cpus", "sleep 0.2", signature: "none") with
                {
                    Resources = new SessionResources { Vcpus = 2, MemoryMb = 128 },
                });
                var runs = new[] { await client.TriggerDaemonAsync("two-cpus"), await client.TriggerDaemonAsync("two-cpus") };
                var plain = await client.RunScriptAsync("true");
                var sessions = new List<Session> { await client.WaitAsync(plain.Id) };
                foreach (var run in runs)
                {
                    sessions.Add(await client.WaitAsync(run.SessionId!));
                }
                sessions.ShouldAllBe(s => s.Status == SessionStatus.Succeeded);
                workspace = sessions[0].Workspace;

                before = (await client.GetFromJsonAsync("/v1/cost?groupBy=daemon", KennelJson.Default.CostSummary))!;
                before.GroupBy.ShouldBe("daemon");
                before.Groups.Select(g => g.Daemon).ShouldBe([null, "two-cpus"], ignoreOrder: true);
                var daemon = before.Groups.Single(g => g.Daemon == "two-cpus");
                daemon.Sessions.ShouldBe(2);
                daemon.VcpuSeconds.ShouldBe(Math.Round(sessions.Skip(1).Sum(s => s.VcpuSeconds), 3), 0.002);
                daemon.VcpuSeconds.ShouldBeGreaterThanOrEqualTo(2 * 2 * 0.2, "2 vCPUs for at least 0.2 s, twice");
                before.Total.Sessions.ShouldBe(3);

                var byDay = (await client.GetFromJsonAsync("/v1/cost?groupBy=day", KennelJson.Default.CostSummary))!;
                var today = byDay.Groups.ShouldHaveSingleItem();
                today.Day.ShouldBe(sessions[0].CreatedAt.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
                today.Sessions.ShouldBe(3);
                today.VcpuSeconds.ShouldBe(before.Total.VcpuSeconds, 0.002);

                var past = (await client.GetFromJsonAsync("/v1/cost?from=2020-01-01&to=2020-02-01", KennelJson.Default.CostSummary))!;
                past.Groups.ShouldBeEmpty();
                past.Total.Sessions.ShouldBe(0);
            }

            // A new process over the same store: the figures are recomputed from the stored sessions, unchanged.
            await using var restarted = await TestServer.StartAsync(store, dataDir: dataDir.FullName, databaseUrl: database);
            using var admin = restarted.Client();
            using var again = restarted.Client((await admin.CreateApiKeyAsync(workspace, "mcp:read")).Key);
            var after = (await again.GetFromJsonAsync("/v1/cost?groupBy=daemon", KennelJson.Default.CostSummary))!;
            after.Groups.ShouldBe(before.Groups);
            after.Total.ShouldBe(before.Total);
            var other = (await admin.GetFromJsonAsync("/v1/cost", KennelJson.Default.CostSummary))!;
            other.Groups.ShouldNotContain(g => g.Daemon == "two-cpus", "another workspace's sessions never count");
        }
        finally
        {
            if (database is not null)
            {
                await TestStore.DropDatabaseAsync(database);
            }
            dataDir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("groupBy=week", "groupBy")]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-01", "to")]
    [InlineData("from=2026-02-01&to=2026-01-01", "from")]
    [InlineData("from=2020-01-01&to=2026-01-01", "from")]
    public async Task A_bad_query_is_a_400_naming_the_parameter(string query, string field)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = server.Client();

        using var response = await client.GetAsync($"/v1/cost?{query}");

        await response.ShouldBeProblemAsync(400, "invalid_request", field);
    }
}
