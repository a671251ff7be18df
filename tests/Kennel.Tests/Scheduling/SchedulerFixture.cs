using System.Collections.Concurrent;
using System.Data.Common;
using Dapper;
using Kennel.ControlPlane.Scheduling;
using Kennel.Store;
using Kennel.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kennel.Tests.Scheduling;

/// <summary>
/// One store (a SQLite file or a PostgreSQL database of its own) with the real schema, and schedulers over it on a
/// manual clock. Each scheduler opens the store anew, as a separate control plane process would.
/// </summary>
public sealed class SchedulerFixture : IAsyncDisposable
{
    private readonly List<Database> databases = [];
    private readonly string? postgres;
    private readonly string? sqlitePath;

    private SchedulerFixture(string? postgres, string? sqlitePath, ManualClock clock)
    {
        this.postgres = postgres;
        this.sqlitePath = sqlitePath;
        Clock = clock;
    }

    public ManualClock Clock { get; }

    /// <summary>Every run any scheduler of this fixture committed, in order.</summary>
    public ConcurrentQueue<ScheduledRun> Committed { get; } = new();

    public static async Task<SchedulerFixture> CreateAsync(string store, DateTimeOffset start)
    {
        var fixture = store == TestStore.Postgres
            ? new SchedulerFixture(await TestStore.CreateDatabaseAsync(), null, new ManualClock(start))
            : new SchedulerFixture(null, Path.Join(Directory.CreateTempSubdirectory("kennel-scheduler-").FullName, "kennel.db"), new ManualClock(start));
        await Migrator.MigrateAsync(fixture.Open(), CancellationToken.None);
        return fixture;
    }

    public Database Open()
    {
        var database = postgres is not null ? Database.OpenPostgres(postgres) : Database.OpenSqlite(sqlitePath!);
        databases.Add(database);
        return database;
    }

    /// <summary>A scheduler as a fresh control plane would start it: its own connection to the store.</summary>
    public Scheduler NewScheduler(IScheduledWork? work = null, SchedulerOptions? options = null)
    {
        var database = Open();
        return new Scheduler(database, new ScheduleStore(database), [work ?? new RecordingWork(this)], options ?? new SchedulerOptions(),
            Clock, NullLogger<Scheduler>.Instance);
    }

    public async Task AddAsync(string id, string cron, string timezone = "UTC", string catchUp = CatchUpPolicy.Once, bool active = true)
    {
        var database = databases[0];
        await database.WriteAsync((connection, transaction) => ScheduleStore.SaveAsync(connection, transaction,
            new ScheduleDefinition(id, RecordingWork.KindName, "ws_default", cron, timezone, catchUp), active, Clock.GetUtcNow(), CancellationToken.None),
            CancellationToken.None);
    }

    public Task<DateTimeOffset?> NextRunAsync(string id) => databases[0].ReadAsync(async connection =>
        await connection.ExecuteScalarAsync<long?>("SELECT next_run_at FROM schedules WHERE id = @id", new { id }) is { } ms
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : (DateTimeOffset?)null, CancellationToken.None);

    /// <summary>The runs the store recorded, oldest first: what a restart would see.</summary>
    public Task<List<(string ScheduleId, long ScheduledFor, long CatchUp, string? Result)>> StoredRunsAsync() => databases[0].ReadAsync(async connection =>
        (await connection.QueryAsync<(string, long, long, string?)>(
            "SELECT schedule_id, scheduled_for, catch_up, result FROM schedule_runs ORDER BY scheduled_for, schedule_id")).ToList(), CancellationToken.None);

    /// <summary>Records a run as another scheduler would have, leaving its schedule where it was.</summary>
    public Task TakeRunAsync(string id, DateTimeOffset scheduledFor) => databases[0].WriteAsync((connection, transaction) => connection.ExecuteAsync(
        "INSERT INTO schedule_runs (schedule_id, scheduled_for, fired_at, catch_up, result) VALUES (@id, @at, @at, 0, 'elsewhere')",
        new { id, at = scheduledFor.ToUnixTimeMilliseconds() }, transaction), CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        foreach (var database in databases)
        {
            await database.DisposeAsync();
        }
        if (postgres is not null)
        {
            await TestStore.DropDatabaseAsync(postgres);
        }
        if (sqlitePath is not null)
        {
            Directory.Delete(Path.GetDirectoryName(sqlitePath)!, recursive: true);
        }
    }

    /// <summary>Work that records its runs; optionally it blocks inside the scheduler's transaction until released.</summary>
    public sealed class RecordingWork(SchedulerFixture fixture, Func<ScheduledRun, CancellationToken, Task>? during = null) : IScheduledWork
    {
        public const string KindName = "test";

        public string Kind => KindName;

        public async Task<IReadOnlyList<string?>> StartAsync(
            DbConnection connection, DbTransaction transaction, IReadOnlyList<ScheduledRun> runs, CancellationToken cancellationToken)
        {
            foreach (var run in runs)
            {
                if (during is not null)
                {
                    await during(run, cancellationToken);
                }
            }
            return [.. runs.Select(run => $"ran {run.ScheduleId}")];
        }

        public void Committed(IReadOnlyList<ScheduledRun> runs)
        {
            foreach (var run in runs)
            {
                fixture.Committed.Enqueue(run);
            }
        }
    }
}
