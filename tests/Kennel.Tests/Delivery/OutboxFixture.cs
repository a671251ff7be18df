using System.Security.Cryptography;
using Dapper;
using Kennel.ControlPlane.Delivery;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;
using Kennel.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kennel.Tests.Delivery;

/// <summary>
/// One store (a SQLite file or a PostgreSQL database of its own) with the real schema, an outbox over it, and senders on
/// a manual clock, each with its own connection to the store as a separate control plane would have.
/// </summary>
public sealed class OutboxFixture : IAsyncDisposable
{
    public const string Workspace = "ws_default";
    private readonly List<Database> databases = [];
    private readonly List<WebhookSender> senders = [];
    private readonly string? postgres;
    private readonly string? sqlitePath;
    private readonly KeyEncryption encryption = new(RandomNumberGenerator.GetBytes(KeyEncryption.KeyBytes));
    private readonly OutboundAddresses addresses;

    private OutboxFixture(string? postgres, string? sqlitePath, OutboundAddresses addresses)
    {
        this.postgres = postgres;
        this.sqlitePath = sqlitePath;
        this.addresses = addresses;
        Database = Open();
        Outbox = new WebhookOutbox(Database, encryption, new ChangeSignal(), Clock);
    }

    public ManualClock Clock { get; } = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    public Database Database { get; }

    public WebhookOutbox Outbox { get; }

    public string Secret { get; } = WebhookSecret.New();

    /// <summary>A store with the schema; the senders connect only where <paramref name="allow"/> (CIDRs) allows beside public addresses.</summary>
    public static async Task<OutboxFixture> CreateAsync(string store, string allow = "127.0.0.0/8")
    {
        var addresses = OutboundAddresses.Parse(allow, out var error) ?? throw new ArgumentException(error);
        var fixture = store == TestStore.Postgres
            ? new OutboxFixture(await TestStore.CreateDatabaseAsync(), null, addresses)
            : new OutboxFixture(null, Path.Join(Directory.CreateTempSubdirectory("kennel-outbox-").FullName, "kennel.db"), addresses);
        await Migrator.MigrateAsync(fixture.Database, CancellationToken.None);
        return fixture;
    }

    /// <summary>A sender as a control plane would start it, with its own connection to the store.</summary>
    public WebhookSender NewSender()
    {
        var database = Open();
        var sender = new WebhookSender(database, new WebhookOutbox(database, encryption, new ChangeSignal(), Clock), addresses, new ChangeSignal(), Clock,
            NullLogger<WebhookSender>.Instance);
        senders.Add(sender);
        return sender;
    }

    /// <summary>Enqueues a message in a transaction of its own, as a cron run's would; returns its id.</summary>
    public Task<string> EnqueueAsync(string url, string sourceId = "run_1", string body = """{"status":"succeeded"}""") =>
        Database.WriteAsync((connection, transaction) => Outbox.EnqueueAsync(connection, transaction,
            new OutboundWebhook(Workspace, "cron_run", sourceId, url, Secret, body), CancellationToken.None), CancellationToken.None);

    public async Task<OutboundWebhookState> StateAsync(string sourceId = "run_1") =>
        (await Outbox.StatesAsync(Workspace, "cron_run", [sourceId], CancellationToken.None))[sourceId];

    /// <summary>Every stored value of the outbox, as text, past the API.</summary>
    public Task<List<string>> StoredValuesAsync() => Database.ReadAsync(async connection =>
        (await connection.QueryAsync<(string, string, string, string)>("SELECT id, secret, body, url FROM webhook_outbox"))
            .SelectMany(row => new[] { row.Item1, row.Item2, row.Item3, row.Item4 }).ToList(), CancellationToken.None);

    private Database Open()
    {
        var database = postgres is not null ? Database.OpenPostgres(postgres) : Database.OpenSqlite(sqlitePath!);
        databases.Add(database);
        return database;
    }

    public async ValueTask DisposeAsync()
    {
        senders.ForEach(sender => sender.Dispose());
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
}
