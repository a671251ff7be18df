using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Kennel.Testing;

/// <summary>
/// Reads the store directly, past the API, for tests of what is kept at rest (a secret must never be). Opens its own
/// connection to the server's SQLite file or PostgreSQL database.
/// </summary>
public static class StoreContents
{
    /// <summary>Every non-null value of every row of every table, as text, with the table it came from.</summary>
    public static async Task<IReadOnlyList<(string Table, string Column, string Value)>> ReadAllValuesAsync(this TestServer server)
    {
        await using var connection = await OpenAsync(server);
        var tables = new List<string>();
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = server.Settings.DatabaseUrl is null
                ? "SELECT name FROM sqlite_master WHERE type = 'table'"
                : "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'";
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }
        var values = new List<(string, string, string)>();
        foreach (var table in tables)
        {
            await using var select = connection.CreateCommand();
            select.CommandText = $"SELECT * FROM \"{table}\"";
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    if (!await reader.IsDBNullAsync(i))
                    {
                        values.Add((table, reader.GetName(i), Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture) ?? ""));
                    }
                }
            }
        }
        return values;
    }

    /// <summary>
    /// Every stored value, as sorted <c>table.column=value</c> lines, but the API keys' last use (which any call touches):
    /// equal before and after a refused request when it wrote nothing.
    /// </summary>
    public static async Task<IReadOnlyList<string>> SnapshotAsync(this TestServer server) =>
        [.. (await server.ReadAllValuesAsync()).Where(v => !(v.Table == "api_keys" && v.Column == "last_used_at"))
            .Select(v => $"{v.Table}.{v.Column}={v.Value}").Order(StringComparer.Ordinal)];

    private static async Task<DbConnection> OpenAsync(TestServer server)
    {
        DbConnection connection = server.Settings.DatabaseUrl is { } url
            ? new NpgsqlConnection(url)
            : new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(server.Settings.DataDir, "kennel.db"), Mode = SqliteOpenMode.ReadOnly }.ToString());
        await connection.OpenAsync();
        return connection;
    }
}
