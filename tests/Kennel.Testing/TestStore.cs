using Npgsql;

namespace Kennel.Testing;

/// <summary>
/// The two stores every behaviour is tested on. PostgreSQL comes from <c>KENNEL_TEST_POSTGRES</c>, which
/// <c>scripts/test.sh</c> sets after starting a throwaway cluster; each test server gets a database of its own.
/// </summary>
public static class TestStore
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary>For <c>[MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]</c>.</summary>
    public static IEnumerable<object[]> Both => [[Sqlite], [Postgres]];

    public static string ServerConnectionString => Environment.GetEnvironmentVariable("KENNEL_TEST_POSTGRES")
        ?? throw new InvalidOperationException(
            "KENNEL_TEST_POSTGRES is not set. Run the suite with scripts/test.sh, which starts PostgreSQL and sets it.");

    public static async Task<string> CreateDatabaseAsync()
    {
        var name = $"kennel_test_{Guid.NewGuid():N}";
        await using var connection = new NpgsqlConnection(ServerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(ServerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
