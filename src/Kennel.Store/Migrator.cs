using System.Globalization;
using System.Reflection;
using Dapper;

namespace Kennel.Store;

/// <summary>
/// Applies the embedded migrations (<c>Migrations/NNNN_name.sql</c>) in order, each in its own transaction, and records
/// them in <c>schema_migrations</c>. Safe when several replicas start at once on PostgreSQL.
/// </summary>
public static class Migrator
{
    // Any fixed number works; it only has to be the same for every replica.
    private const long PostgresLockKey = 0x4b454e4e454c;

    public static async Task<int> MigrateAsync(Database database, CancellationToken cancellationToken)
    {
        var migrations = LoadMigrations();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (database.Provider == StoreProvider.Postgres)
        {
            await connection.ExecuteAsync("SELECT pg_advisory_lock(@key)", new { key = PostgresLockKey }).ConfigureAwait(false);
        }
        try
        {
            await connection.ExecuteAsync(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
                .ConfigureAwait(false);
            var applied = (await connection.QueryAsync<int>("SELECT version FROM schema_migrations").ConfigureAwait(false)).ToHashSet();
            var count = 0;
            foreach (var migration in migrations.Where(m => !applied.Contains(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await connection.ExecuteAsync(migration.Sql, transaction: transaction).ConfigureAwait(false);
                await connection.ExecuteAsync(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@Version, @Name, @At)",
                    new { migration.Version, migration.Name, At = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() },
                    transaction).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                count++;
            }
            return count;
        }
        finally
        {
            if (database.Provider == StoreProvider.Postgres)
            {
                await connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = PostgresLockKey }).ConfigureAwait(false);
            }
        }
    }

    private sealed record Migration(int Version, string Name, string Sql);

    private static List<Migration> LoadMigrations()
    {
        var assembly = typeof(Migrator).Assembly;
        const string marker = ".Migrations.";
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.Contains(marker, StringComparison.Ordinal)))
        {
            var file = resource[(resource.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..];
            var version = int.Parse(file.AsSpan(0, 4), CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add(new Migration(version, Path.GetFileNameWithoutExtension(file), reader.ReadToEnd()));
        }
        return [.. migrations.OrderBy(m => m.Version)];
    }
}
