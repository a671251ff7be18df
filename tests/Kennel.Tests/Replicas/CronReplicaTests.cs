using Kennel.Agents.Providers;
using Kennel.Testing;

namespace Kennel.Tests.Replicas;

/// <summary>Two control planes on one PostgreSQL, on one manual clock: each due run of each cron job fires once between them.</summary>
public sealed class CronReplicaTests
{
    [Fact]
    public async Task Two_control_planes_on_one_postgres_fire_each_cron_run_once_between_them()
    {
        await using var model = await ScriptedProvider.StartAsync();
        for (var i = 0; i < 30; i++)
        {
            model.ThenEvents(ModelScript.Answer($"answer {i}"));
        }
        var now = DateTimeOffset.UtcNow;
        var clock = new ManualClock(new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero));
        var database = await TestStore.CreateDatabaseAsync();
        var dataDir = Directory.CreateTempSubdirectory("kennel-test-cron-replicas-");
        try
        {
            Func<Kennel.ControlPlane.Hosting.KennelSettings, Kennel.ControlPlane.Hosting.KennelSettings> settings = s => s with
            {
                Time = clock,
                EmbeddedWorker = false,
                Providers = [new ProviderSettings("openai", ProviderKind.OpenAI, new Uri(model.Url, "v1"), "sk-test-cron")],
            };
            await using var first = await TestServer.StartAsync(TestStore.Postgres, settings, dataDir.FullName, database);
            await using var second = await TestServer.StartAsync(TestStore.Postgres, settings, dataDir.FullName, database);
            using var viaFirst = first.Client();
            using var viaSecond = second.Client(first.AdminKey);
            for (var i = 0; i < 10; i++)
            {
                await (i % 2 == 0 ? viaFirst : viaSecond).AddCronJobAsync(CronApi.AgentTurn($"minutely-{i}", "ping", CronApi.Every("1m")));
            }

            for (var minute = 1; minute <= 3; minute++)
            {
                clock.Advance(TimeSpan.FromMinutes(1));
                await (minute % 2 == 0 ? viaFirst : viaSecond).WaitForCronRunsAsync("?limit=200",
                    page => page.Items.Count(r => r.Status == "succeeded") == 10 * minute);
            }
            // Both schedulers have had their ticks at the last minute by now; nothing more may appear.
            await Task.Delay(TimeSpan.FromSeconds(2));

            var runs = (await viaFirst.CronRunsAsync("?limit=200")).Items;
            runs.Count.ShouldBe(30);
            runs.ShouldAllBe(r => r.Status == "succeeded");
            runs.GroupBy(r => (r.JobId, r.ScheduledFor)).ShouldAllBe(group => group.Count() == 1);
            runs.Select(r => r.RunId).Distinct().Count().ShouldBe(30);
            model.Requests.Count.ShouldBe(30);
        }
        finally
        {
            await TestStore.DropDatabaseAsync(database);
            dataDir.Delete(recursive: true);
        }
    }
}
