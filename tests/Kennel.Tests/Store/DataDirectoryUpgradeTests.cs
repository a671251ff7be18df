using System.Buffers.Binary;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Kennel.Contracts.Sessions;
using Kennel.Testing;
using Microsoft.Data.Sqlite;

namespace Kennel.Tests.Store;

/// <summary>
/// A data directory from before the move to a current SQLite (see <c>Fixtures/sqlite-3.35.5/README.md</c>): the current
/// build opens it, applies the migrations it lacks, keeps every row, and serves and extends what it holds.
/// </summary>
public sealed class DataDirectoryUpgradeTests
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Store", "Fixtures", "sqlite-3.35.5");

    /// <summary>
    /// Columns that running the server rightly changes: a key's last use, and a schedule's next run once the clock has
    /// passed the one the fixture recorded.
    /// </summary>
    private static readonly HashSet<string> ChangedByUse = new(StringComparer.Ordinal) { "api_keys.last_used_at", "schedules.next_run_at" };

    [Fact]
    public async Task A_data_directory_written_by_sqlite_3_35_5_is_migrated_on_start_and_keeps_every_row()
    {
        var dataDir = Directory.CreateTempSubdirectory("kennel-upgrade-").FullName;
        try
        {
            foreach (var file in new[] { "kennel.db", "admin-api-key", "oauth-signing.kek" })
            {
                File.Copy(Path.Combine(Fixture, file), Path.Combine(dataDir, file));
            }
            var database = Path.Combine(dataDir, "kennel.db");
            WrittenBySqliteVersion(database).ShouldBe(3_035_005);
            var before = await ReadRowsAsync(database);
            var columnsBefore = await ColumnsAsync(database);
            before["schema_migrations"].Count.ShouldBe(4);

            await using (var server = await TestServer.StartAsync(TestStore.Sqlite, dataDir: dataDir))
            {
                using var admin = server.Client();
                using var health = await admin.GetFromJsonAsync<JsonDocument>("/v1/health");
                var sqlite = Version.Parse(health!.RootElement.GetProperty("storeVersion").GetString()!);
                sqlite.ShouldBeGreaterThan(new Version(3, 35, 5));

                var sessions = (await admin.ListSessionsAsync()).Items;
                sessions.Count.ShouldBe(7);
                sessions.ShouldContain(s => s.Status == SessionStatus.Succeeded && s.Stdout == "hello from sqlite 3.35\n");
                sessions.ShouldContain(s => s.Status == SessionStatus.Failed && s.ExitCode == 3 && s.Stderr == "err\n");
                sessions.ShouldContain(s => s.Status == SessionStatus.Cancelled);
                sessions.Where(s => s.Daemon == "pr-reviewer").Select(s => s.Stdout).Order(StringComparer.Ordinal)
                    .ShouldBe(["{\"action\":\"opened\"}", "{\"reason\":\"by hand\"}"]);
                (await admin.GetDaemonAsync("nightly")).Trigger.NextRunAt.ShouldNotBeNull();
                (await admin.GetDaemonAsync("every-minute")).Status.ShouldBe("paused");

                // The secret written then still decrypts for a new run, and the old API key still authenticates.
                using var ci = server.Client("kn_n8ykav8kevzt_4cw1xwcbfn2gfp0qmgwg3vv01yx8hkfgxpcgm0q1");
                var session = await ci.CreateSessionAsync(new CreateSessionRequest
                {
                    Script = "test \"$DEPLOY_TOKEN\" = s3cr3t-value && echo still-secret",
                    Secrets = ["DEPLOY_TOKEN"],
                });
                var finished = await ci.WaitAsync(session.Id);
                finished.Stdout.ShouldBe("still-secret\n", finished.Error?.Message);
            }

            // Columns that later migrations add are left out: the rows must keep what they held.
            var after = await ReadRowsAsync(database, columnsBefore);
            after["schema_migrations"].Count.ShouldBeGreaterThan(4);
            after.Keys.ShouldContain("webhook_deliveries");
            foreach (var (table, rows) in before)
            {
                rows.Except(after[table]).ShouldBeEmpty($"rows of {table} changed or went missing");
            }
            after["sessions"].Count.ShouldBeGreaterThan(before["sessions"].Count);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    /// <summary>The "version-valid-for" SQLite library number in the file's header: the version that last wrote it.</summary>
    private static int WrittenBySqliteVersion(string path)
    {
        Span<byte> header = stackalloc byte[100];
        using var file = File.OpenRead(path);
        file.ReadExactly(header);
        return BinaryPrimitives.ReadInt32BigEndian(header[96..]);
    }

    /// <summary>
    /// Every row of every table, as <c>column=value</c> text, leaving out the columns in <see cref="ChangedByUse"/>, and
    /// those not in <paramref name="only"/> for the tables it has.
    /// </summary>
    private static async Task<Dictionary<string, List<string>>> ReadRowsAsync(string path, Dictionary<string, HashSet<string>>? only = null)
    {
        await using var connection = await OpenReadOnlyAsync(path);
        var tables = await TablesAsync(connection);
        var rows = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            rows[table] = [];
            await using var select = connection.CreateCommand();
            select.CommandText = $"SELECT * FROM \"{table}\"";
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var columns = Enumerable.Range(0, reader.FieldCount)
                    .Where(i => !ChangedByUse.Contains($"{table}.{reader.GetName(i)}")
                        && (only is null || !only.TryGetValue(table, out var kept) || kept.Contains(reader.GetName(i))))
                    .Select(i => $"{reader.GetName(i)}={Text(reader.GetValue(i))}");
                rows[table].Add(string.Join(';', columns));
            }
        }
        return rows;
    }

    /// <summary>The columns of every table.</summary>
    private static async Task<Dictionary<string, HashSet<string>>> ColumnsAsync(string path)
    {
        await using var connection = await OpenReadOnlyAsync(path);
        var columns = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var table in await TablesAsync(connection))
        {
            await using var info = connection.CreateCommand();
            info.CommandText = $"SELECT name FROM pragma_table_info('{table}')";
            await using var reader = await info.ExecuteReaderAsync();
            columns[table] = new HashSet<string>(StringComparer.Ordinal);
            while (await reader.ReadAsync())
            {
                columns[table].Add(reader.GetString(0));
            }
        }
        return columns;
    }

    private static async Task<SqliteConnection> OpenReadOnlyAsync(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<List<string>> TablesAsync(SqliteConnection connection)
    {
        var tables = new List<string>();
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }
        return tables;
    }

    private static string Text(object value) => value switch
    {
        DBNull => "null",
        byte[] bytes => Convert.ToHexString(bytes),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
