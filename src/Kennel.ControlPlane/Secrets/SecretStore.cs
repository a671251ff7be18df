using System.Data.Common;
using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.Secrets;

/// <summary>
/// Secret queries. Every one names the workspace in its SQL, so a caller never reads, replaces or deletes another
/// workspace's secret whatever the name. Values come and go encrypted; this class never sees a plaintext.
/// </summary>
public sealed class SecretStore(Database database)
{
    public enum SetOutcome { Created, Replaced, LimitReached }

    /// <summary>
    /// The names of secrets the workspace config keeps (a provider's API key is <c>config:providers.openai.apiKey</c>).
    /// No environment variable can be named so, so no session can ask for one, and people's lists leave them out.
    /// </summary>
    public const string ConfigPrefix = "config:";

    /// <summary>Creates or replaces a secret. A new one is refused when the workspace already has <paramref name="limit"/>.</summary>
    public Task<(SetOutcome Outcome, SecretRow? Row)> SetAsync(
        string workspaceId, string name, string encryptedValue, long now, int limit, CancellationToken cancellationToken) =>
        database.WriteAsync<(SetOutcome, SecretRow?)>(async (connection, transaction) =>
        {
            var parameters = new { workspaceId, name, encryptedValue, now };
            var outcome = SetOutcome.Replaced;
            if (await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE secrets SET encrypted_value = @encryptedValue, updated_at = @now WHERE workspace_id = @workspaceId AND name = @name",
                parameters, transaction, cancellationToken: cancellationToken)) == 0)
            {
                var count = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                    "SELECT COUNT(*) FROM secrets WHERE workspace_id = @workspaceId", parameters, transaction, cancellationToken: cancellationToken));
                if (count >= limit)
                {
                    return (SetOutcome.LimitReached, null);
                }
                // A concurrent set of the same new name on PostgreSQL waits here for the other to commit, then replaces it.
                await UpsertAsync(connection, transaction, workspaceId, name, encryptedValue, now, cancellationToken);
                outcome = SetOutcome.Created;
            }
            var row = await connection.QuerySingleAsync<SecretRow>(new CommandDefinition(
                $"{SelectColumns} WHERE workspace_id = @workspaceId AND name = @name", parameters, transaction, cancellationToken: cancellationToken));
            return (outcome, row);
        }, cancellationToken);

    public Task<IReadOnlyList<SecretRow>> ListAsync(string workspaceId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<SecretRow>>(async connection => [.. await connection.QueryAsync<SecretRow>(new CommandDefinition(
            $"{SelectColumns} WHERE workspace_id = @workspaceId AND name NOT LIKE '{ConfigPrefix}%' ORDER BY name", new { workspaceId },
            cancellationToken: cancellationToken))], cancellationToken);

    /// <summary>Creates or replaces a secret inside the caller's transaction (the config writes its keys with its version).</summary>
    public static Task UpsertAsync(DbConnection connection, DbTransaction transaction, string workspaceId, string name, string encryptedValue,
        long now, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO secrets (workspace_id, name, encrypted_value, created_at, updated_at) VALUES (@workspaceId, @name, @encryptedValue, @now, @now) " +
            "ON CONFLICT (workspace_id, name) DO UPDATE SET encrypted_value = excluded.encrypted_value, updated_at = excluded.updated_at",
            new { workspaceId, name, encryptedValue, now }, transaction, cancellationToken: cancellationToken));

    /// <summary>Deletes these secrets inside the caller's transaction.</summary>
    public Task DeleteAsync(DbConnection connection, DbTransaction transaction, string workspaceId, IReadOnlyCollection<string> names,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition($"DELETE FROM secrets WHERE workspace_id = @workspaceId AND name {database.InList("names")}",
            new { workspaceId, names = names.ToArray() }, transaction, cancellationToken: cancellationToken));

    /// <summary>The names of the config's secrets, read inside the caller's transaction.</summary>
    public static async Task<HashSet<string>> ConfigNamesAsync(DbConnection connection, DbTransaction transaction, string workspaceId,
        CancellationToken cancellationToken) =>
        (await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT name FROM secrets WHERE workspace_id = @workspaceId AND name LIKE '{ConfigPrefix}%'", new { workspaceId }, transaction,
            cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal);

    public Task<bool> DeleteAsync(string workspaceId, string name, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) => await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM secrets WHERE workspace_id = @workspaceId AND name = @name", new { workspaceId, name }, transaction,
            cancellationToken: cancellationToken)) == 1, cancellationToken);

    /// <summary>Which of these names the workspace has a secret for.</summary>
    public Task<HashSet<string>> ExistingAsync(string workspaceId, IReadOnlyList<string> names, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection => (await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT name FROM secrets WHERE workspace_id = @workspaceId AND name {database.InList("names")}",
            new { workspaceId, names = names.ToArray() }, cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal), cancellationToken);

    /// <summary>The encrypted values of these secrets of one workspace.</summary>
    public Task<IReadOnlyList<SecretRow>> ReadValuesAsync(string workspaceId, IReadOnlyCollection<string> names, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<SecretRow>>(async connection => [.. await connection.QueryAsync<SecretRow>(new CommandDefinition(
            $"SELECT name, encrypted_value FROM secrets WHERE workspace_id = @workspaceId AND name {database.InList("names")}",
            new { workspaceId, names = names.ToArray() }, cancellationToken: cancellationToken))], cancellationToken);

    private const string SelectColumns = "SELECT name, created_at, updated_at FROM secrets";
}

/// <summary>A <c>secrets</c> row as the store reads it; <see cref="EncryptedValue"/> only where the value is resolved.</summary>
public sealed class SecretRow
{
    public string Name { get; set; } = "";
    public string EncryptedValue { get; set; } = "";
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
}
