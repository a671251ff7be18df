using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Kennel.Store;

/// <summary>
/// A SQLite connection kept open for reads, with the statements of <see cref="Database.ReadRowAsync{T}"/> prepared on it
/// once: SQLite's parse and plan of a statement cost more than running a point lookup.
/// </summary>
internal sealed class SqliteReader(DbConnection connection) : IAsyncDisposable
{
    private const int MaxStatements = 32;
    private readonly Dictionary<string, SqliteCommand> statements = new(StringComparer.Ordinal);

    public DbConnection Connection { get; } = connection;

    public T? ReadRow<T>(string sql, IReadOnlyList<(string Name, object Value)> parameters)
    {
        var command = Statement(sql, parameters);
        foreach (var (name, value) in parameters)
        {
            command.Parameters[name].Value = value;
        }
        using var reader = command.ExecuteReader();
        return reader.Read() ? reader.GetRowParser<T>()(reader) : default;
    }

    private SqliteCommand Statement(string sql, IReadOnlyList<(string Name, object Value)> parameters)
    {
        if (statements.TryGetValue(sql, out var command))
        {
            return command;
        }
        if (statements.Count >= MaxStatements)
        {
            DisposeStatements();
        }
        command = (SqliteCommand)Connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, _) in parameters)
        {
            command.Parameters.Add(new SqliteParameter(name, null));
        }
        command.Prepare();
        statements[sql] = command;
        return command;
    }

    private void DisposeStatements()
    {
        foreach (var command in statements.Values)
        {
            command.Dispose();
        }
        statements.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        DisposeStatements();
        await Connection.DisposeAsync().ConfigureAwait(false);
    }
}
