using System.Data.Common;

namespace Kennel.Store;

/// <summary>
/// One statement run for many rows inside a transaction: the command is made once and only its parameter values change,
/// so SQLite compiles the statement once for the batch instead of once a row. For SQLite, which runs in this process and
/// has no arrays; PostgreSQL takes a batch as one statement over arrays instead (<see cref="Database.TakesArrays"/>).
/// </summary>
public sealed class RowStatement : IDisposable
{
    private readonly DbCommand command;

    public RowStatement(DbConnection connection, DbTransaction transaction, string sql, params string[] parameterNames)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(parameterNames);
        command = connection.CreateCommand();
        command.Transaction = transaction;
#pragma warning disable CA2100 // The SQL is a constant of the caller's; values go in as parameters.
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach (var name in parameterNames)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            command.Parameters.Add(parameter);
        }
    }

    /// <summary>Runs the statement with <paramref name="values"/>, in the order of the names given at construction. Returns the rows changed.</summary>
    public Task<int> ExecuteAsync(CancellationToken cancellationToken, params object?[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != command.Parameters.Count)
        {
            throw new ArgumentException($"The statement takes {command.Parameters.Count} values, not {values.Length}.", nameof(values));
        }
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
        return command.ExecuteNonQueryAsync(cancellationToken);
    }

    public void Dispose() => command.Dispose();
}
