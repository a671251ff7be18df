using Kennel.Contracts.Daemons;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Daemons;

/// <summary>
/// A scheduled daemon in a real control plane on a manual clock: it fires at its time with the schedule's payload, and
/// two control planes on one PostgreSQL fire it once between them.
/// </summary>
public sealed class ScheduledDaemonTests
{
    private static ManualClock ClockAtTheMinute()
    {
        var now = DateTimeOffset.UtcNow;
        return new ManualClock(new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_schedule_fires_at_its_time_and_shows_its_next_run(string store)
    {
        var clock = ClockAtTheMinute();
        await using var server = await TestServer.StartAsync(store, s => s with { Time = clock, EmbeddedWorker = false });
        using var client = server.Client();
        var daemon = await client.CreateDaemonAsync(DaemonApi.Scheduled("every-five", "cat $KENNEL_TRIGGER_PAYLOAD", "*/5 * * * *", "Asia/Kolkata"));
        var due = daemon.Trigger.NextRunAt!.Value;
        (due.Minute % 5).ShouldBe(0);

        clock.SetUtcNow(due);
        var fired = await EventuallyAsync(client, "every-five", d => d.Totals!.Sessions == 1);

        var session = await client.GetSessionAsync(fired.RecentSessions!.Single().Id);
        session.Trigger.ShouldBe("schedule");
        session.Daemon.ShouldBe("every-five");
        session.ScheduledFor.ShouldBe(due);
        session.CreatedAt.ShouldBe(due, "on a clock that stands still at the due time, the run is created at the due time");
        session.CatchUp.ShouldBeNull();
        session.Env["KENNEL_TRIGGER_TYPE"].ShouldBe("schedule");
        fired.Trigger.NextRunAt.ShouldBe(due.AddMinutes(5));
    }

    [Fact]
    public async Task Two_control_planes_on_one_postgres_fire_a_schedule_once_between_them()
    {
        var clock = ClockAtTheMinute();
        var database = await TestStore.CreateDatabaseAsync();
        var dataDir = Directory.CreateTempSubdirectory("kennel-test-scheduler-replicas-");
        try
        {
            await using var first = await TestServer.StartAsync(TestStore.Postgres, s => s with { Time = clock, EmbeddedWorker = false },
                dataDir.FullName, database);
            await using var second = await TestServer.StartAsync(TestStore.Postgres, s => s with { Time = clock, EmbeddedWorker = false },
                dataDir.FullName, database);
            using var viaFirst = first.Client();
            using var viaSecond = second.Client(first.AdminKey);
            for (var i = 0; i < 10; i++)
            {
                await (i % 2 == 0 ? viaFirst : viaSecond).CreateDaemonAsync(DaemonApi.Scheduled($"minutely-{i}", "true", "* * * * *"));
            }

            for (var minute = 1; minute <= 3; minute++)
            {
                clock.Advance(TimeSpan.FromMinutes(1));
                for (var i = 0; i < 10; i++)
                {
                    await EventuallyAsync(i % 2 == 0 ? viaSecond : viaFirst, $"minutely-{i}", d => d.Totals!.Sessions >= minute);
                }
            }
            // Both schedulers have had their ticks at the last minute by now; nothing more may appear.
            await Task.Delay(TimeSpan.FromSeconds(2));

            for (var i = 0; i < 10; i++)
            {
                var daemon = await viaFirst.GetDaemonAsync($"minutely-{i}");
                daemon.Totals!.Sessions.ShouldBe(3);
                daemon.RecentSessions!.Select(s => s.CreatedAt).Distinct().Count().ShouldBe(3);
            }
        }
        finally
        {
            await TestStore.DropDatabaseAsync(database);
            dataDir.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_run_missed_while_kennel_was_down_catches_up_beside_the_run_due_on_time(string store)
    {
        // The next five-minute mark ahead (02:00, say); Kennel stops two minutes before it and is back at 02:05:30.
        var now = DateTimeOffset.UtcNow;
        var missed = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute - now.Minute % 5, 0, TimeSpan.Zero).AddMinutes(5);
        var onTime = missed.AddMinutes(5);
        var clock = new ManualClock(missed.AddMinutes(-2));
        var database = store == TestStore.Postgres ? await TestStore.CreateDatabaseAsync() : null;
        var dataDir = Directory.CreateTempSubdirectory("kennel-test-catch-up-");
        try
        {
            await using (var before = await TestServer.StartAsync(store, s => s with { Time = clock, EmbeddedWorker = false }, dataDir.FullName, database))
            {
                using var client = before.Client();
                await client.CreateDaemonAsync(DaemonApi.Scheduled("catches-up", "true", "*/5 * * * *"));
                var skipping = DaemonApi.Scheduled("skips", "true", "*/5 * * * *");
                await client.CreateDaemonAsync(skipping with { Trigger = skipping.Trigger! with { CatchUp = "skip" } });
            }
            clock.SetUtcNow(onTime.AddSeconds(30));
            await using var after = await TestServer.StartAsync(store, s => s with { Time = clock, EmbeddedWorker = false }, dataDir.FullName, database);
            using var admin = after.Client();

            var caughtUp = await EventuallyAsync(admin, "catches-up", d => d.Totals!.Sessions == 2);
            var runs = new List<Session>();
            foreach (var summary in caughtUp.RecentSessions!.OrderBy(s => s.Id, StringComparer.Ordinal))
            {
                runs.Add(await admin.GetSessionAsync(summary.Id));
            }
            runs.Select(s => (s.ScheduledFor, s.CatchUp)).ShouldBe([(missed, (bool?)true), (onTime, (bool?)null)]);
            var skipped = await EventuallyAsync(admin, "skips", d => d.Totals!.Sessions == 1);
            var only = await admin.GetSessionAsync(skipped.RecentSessions!.Single().Id);
            (only.ScheduledFor, only.CatchUp).ShouldBe((onTime, (bool?)null));
            caughtUp.Trigger.NextRunAt.ShouldBe(onTime.AddMinutes(5));
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

    private static async Task<Daemon> EventuallyAsync(HttpClient client, string name, Func<Daemon, bool> condition)
    {
        for (var i = 0; i < 200; i++)
        {
            var daemon = await client.GetDaemonAsync(name);
            if (condition(daemon))
            {
                return daemon;
            }
            await Task.Delay(50);
        }
        throw new ShouldAssertException($"Daemon {name} never reached the expected state: {System.Text.Json.JsonSerializer.Serialize(await client.GetDaemonAsync(name), Contracts.KennelJson.Default.Daemon)}");
    }
}
