using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Kennel.Store;

/// <summary>
/// The one store abstraction: a SQLite file by default, PostgreSQL when a connection string is given. Both run the same
/// SQL; the few places where the dialects differ are named here.
/// </summary>
public sealed partial class Database : IAsyncDisposable
{
    // SQLite allows one writer at a time. Queuing writers here, instead of letting them collide on the file lock and
    // back off inside SQLite, keeps write latency flat under load.
    private readonly SemaphoreSlim sqliteWriteLock = new(1, 1);

    // SQLite connections are kept open and configured once: one for the single writer, and a few for readers. Opening
    // and re-running the pragmas on every query cost more than most queries here.
    private const int MaxIdleReaders = 16;
    private readonly ConcurrentBag<SqliteReader> idleReaders = [];
    private DbConnection? sqliteWriter;
    // Typed as the base class, and every Npgsql type kept to methods that only PostgreSQL reaches, so a SQLite
    // control plane never loads Npgsql (about 1 MB of resident memory at idle).
    private readonly DbDataSource? postgres;
    private readonly string? sqliteConnectionString;

    private Database(StoreProvider provider, DbDataSource? postgres, string? sqliteConnectionString, string description)
    {
        Provider = provider;
        this.postgres = postgres;
        this.sqliteConnectionString = sqliteConnectionString;
        Description = description;
    }

    public StoreProvider Provider { get; }

    /// <summary>Where the data lives, without credentials, for the start-up report.</summary>
    public string Description { get; }

    /// <summary>
    /// Whether this process is the store's only writer: a SQLite file belongs to one <c>kennel serve</c>, while several
    /// control planes may share one PostgreSQL. Only an exclusive store lets a process trust what it read earlier.
    /// </summary>
    public bool IsExclusive => Provider == StoreProvider.Sqlite;

    /// <summary>Appended to a row-selecting subquery that claims work, so replicas on PostgreSQL never claim the same row.</summary>
    public string SkipLocked => Provider == StoreProvider.Postgres ? " FOR UPDATE SKIP LOCKED" : "";

    /// <summary>
    /// "Is one of this list": Dapper expands a list into <c>IN (@p1, @p2…)</c> for SQLite but hands PostgreSQL an array,
    /// which needs <c>= ANY(@p)</c>.
    /// </summary>
    public string InList(string parameter) => Provider == StoreProvider.Postgres ? $"= ANY(@{parameter})" : $"IN @{parameter}";

    /// <summary>
    /// Whether a batch of rows should be written by one set-based statement over array parameters (<c>unnest</c>).
    /// PostgreSQL is a round trip away and parses and plans each statement, so yes: one fixed text per batch whatever its
    /// size. SQLite runs in this process and has no arrays, and a prepared statement per row costs it less.
    /// </summary>
    public static bool TakesArrays(DbConnection connection) => connection is not SqliteConnection;

    /// <summary>
    /// The version of the engine behind <paramref name="connection"/>: the SQLite library in this process (such as 3.53.3),
    /// or the PostgreSQL server's (such as 15.14, without the distribution's suffix).
    /// </summary>
    public static string EngineVersion(DbConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return connection is SqliteConnection ? connection.ServerVersion : PostgresVersion(connection);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string PostgresVersion(DbConnection connection) => ((NpgsqlConnection)connection).PostgreSqlVersion.ToString();

    public static Database OpenSqlite(string path)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
        };
        return new Database(StoreProvider.Sqlite, null, builder.ToString(), $"sqlite:{path}");
    }

    public static Database OpenPostgres(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var description = $"postgres://{builder.Host}:{builder.Port}/{builder.Database}";
        return new Database(StoreProvider.Postgres, NpgsqlDataSource.Create(builder.ConnectionString), null, description);
    }

    public async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (postgres is not null)
        {
            return await postgres.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        var connection = new SqliteConnection(sqliteConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var pragma = connection.CreateCommand();
        // WAL lets readers run beside the writer; NORMAL sync is durable across process crashes (kill -9) in WAL mode.
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;";
        await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    /// <summary>Runs <paramref name="work"/> in one write transaction, committed only if it returns.</summary>
    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        if (Provider == StoreProvider.Postgres)
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            return await InTransactionAsync(connection, work, cancellationToken).ConfigureAwait(false);
        }
        await sqliteWriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            sqliteWriter ??= await OpenAsync(cancellationToken).ConfigureAwait(false);
            return await InTransactionAsync(sqliteWriter, work, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            sqliteWriteLock.Release();
        }
    }

    public Task WriteAsync(Func<DbConnection, DbTransaction, Task> work, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await work(connection, transaction).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>Runs <paramref name="work"/> on a connection outside any transaction, for reads.</summary>
    public async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        if (Provider == StoreProvider.Postgres)
        {
            await using var pooled = await OpenAsync(cancellationToken).ConfigureAwait(false);
            return await work(pooled).ConfigureAwait(false);
        }
        return await OnSqliteReaderAsync(reader => work(reader.Connection), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The first row of a hot, fixed query, or the default. On SQLite its statement is parsed and planned once per reader
    /// connection and kept, which costs less than the query itself did; PostgreSQL runs it as any other read.
    /// </summary>
    public async Task<T?> ReadRowAsync<T>(string sql, IReadOnlyList<(string Name, object Value)> parameters, CancellationToken cancellationToken)
    {
        if (Provider == StoreProvider.Postgres)
        {
            var values = new Dapper.DynamicParameters();
            foreach (var (name, value) in parameters)
            {
                values.Add(name, value);
            }
            return await ReadAsync(connection => Dapper.SqlMapper.QueryFirstOrDefaultAsync<T>(connection,
                new Dapper.CommandDefinition(sql, values, cancellationToken: cancellationToken)), cancellationToken).ConfigureAwait(false);
        }
        return await OnSqliteReaderAsync(reader => Task.FromResult(reader.ReadRow<T>(sql, parameters)), cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> OnSqliteReaderAsync<T>(Func<SqliteReader, Task<T>> work, CancellationToken cancellationToken)
    {
        var reader = idleReaders.TryTake(out var idle) ? idle : new SqliteReader(await OpenAsync(cancellationToken).ConfigureAwait(false));
        var healthy = false;
        try
        {
            var result = await work(reader).ConfigureAwait(false);
            healthy = true;
            return result;
        }
        finally
        {
            if (healthy && idleReaders.Count < MaxIdleReaders)
            {
                idleReaders.Add(reader);
            }
            else
            {
                await reader.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task<T> InTransactionAsync<T>(
        DbConnection connection, Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var result = await work(connection, transaction).ConfigureAwait(false);
        await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        if (postgres is not null)
        {
            await postgres.DisposeAsync().ConfigureAwait(false);
        }
        while (idleReaders.TryTake(out var reader))
        {
            await reader.DisposeAsync().ConfigureAwait(false);
        }
        if (sqliteWriter is not null)
        {
            await sqliteWriter.DisposeAsync().ConfigureAwait(false);
        }
        sqliteWriteLock.Dispose();
    }
}
