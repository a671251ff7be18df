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
    private readonly Dictionary<string, Prepared> statements = new(StringComparer.Ordinal);

    public DbConnection Connection { get; } = connection;

    public T? ReadRow<T>(string sql, IReadOnlyList<(string Name, object Value)> parameters)
    {
        var prepared = Statement(sql, parameters);
        foreach (var (name, value) in parameters)
        {
            prepared.Command.Parameters[name].Value = value;
        }
        using var reader = prepared.Command.ExecuteReader();
        if (!reader.Read())
        {
            return default;
        }
        // One row parser per statement, made at its first row: Dapper finds a parser by every column's name and type,
        // which reads them all from SQLite each time. A statement's columns are the same on every run, and Dapper's
        // own way with a parser is to use it for every row of a result.
        if (prepared.Parser is not Func<DbDataReader, T> parser)
        {
            prepared.Parser = parser = reader.GetRowParser<T>();
        }
        return parser(reader);
    }

    private Prepared Statement(string sql, IReadOnlyList<(string Name, object Value)> parameters)
    {
        if (statements.TryGetValue(sql, out var prepared))
        {
            return prepared;
        }
        if (statements.Count >= MaxStatements)
        {
            DisposeStatements();
        }
        var command = (SqliteCommand)Connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, _) in parameters)
        {
            command.Parameters.Add(new SqliteParameter(name, null));
        }
        command.Prepare();
        return statements[sql] = new Prepared(command);
    }

    private void DisposeStatements()
    {
        foreach (var prepared in statements.Values)
        {
            prepared.Command.Dispose();
        }
        statements.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        DisposeStatements();
        await Connection.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A prepared statement, and the row parser of its results once it has returned a row.</summary>
    private sealed class Prepared(SqliteCommand command)
    {
        public SqliteCommand Command { get; } = command;

        public Delegate? Parser { get; set; }
    }
}
