using Dapper;
using Kennel.ControlPlane.Secrets;
using Kennel.Store;

namespace Kennel.ControlPlane.Config;

/// <summary>A <c>workspace_config_versions</c> row as the store reads it.</summary>
public sealed class ConfigVersionRow
{
    public long Version { get; set; }
    public string Document { get; set; } = ConfigDocument.Empty;
    public string Hash { get; set; } = ConfigDocument.Hash(ConfigDocument.Empty);
    public string Author { get; set; } = "";
    public long CreatedAt { get; set; }
    public string Changes { get; set; } = "[]";

    /// <summary>What a workspace that never wrote its config has: version 0, the empty document.</summary>
    public static ConfigVersionRow Initial { get; } = new();
}

/// <summary>A write decided on the current version: the new document and what to do with the config's secrets.</summary>
public sealed record ConfigChange(string Document, string Hash, string Author, string Changes,
    IReadOnlyDictionary<string, string> SealedSecrets, IReadOnlyCollection<string> DeletedSecrets);

/// <summary>
/// Config queries, each naming the workspace in its SQL. A write is one transaction: the workspace's row is locked on
/// PostgreSQL (SQLite has one writer), the current version and the config's secret names are read, the caller decides,
/// and the secrets and the new version are written together, so two writers never both build on the same version.
/// </summary>
public sealed class ConfigStore(Database database, SecretStore secrets, TimeProvider time)
{
    public Task<ConfigVersionRow> CurrentAsync(string workspaceId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection => await connection.QuerySingleOrDefaultAsync<ConfigVersionRow>(new CommandDefinition(
            $"{Select} WHERE workspace_id = @workspaceId ORDER BY version DESC LIMIT 1", new { workspaceId },
            cancellationToken: cancellationToken)) ?? ConfigVersionRow.Initial, cancellationToken);

    public Task<ConfigVersionRow?> VersionAsync(string workspaceId, long version, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<ConfigVersionRow>(new CommandDefinition(
            $"{Select} WHERE workspace_id = @workspaceId AND version = @version", new { workspaceId, version }, cancellationToken: cancellationToken)),
            cancellationToken);

    /// <summary>The newest versions first, without their documents.</summary>
    public Task<IReadOnlyList<ConfigVersionRow>> VersionsAsync(string workspaceId, long? before, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ConfigVersionRow>>(async connection => [.. await connection.QueryAsync<ConfigVersionRow>(new CommandDefinition(
            "SELECT version, hash, author, created_at, changes FROM workspace_config_versions WHERE workspace_id = @workspaceId " +
            "AND version < @before ORDER BY version DESC LIMIT @limit", new { workspaceId, before = before ?? long.MaxValue, limit },
            cancellationToken: cancellationToken))], cancellationToken);

    /// <summary>
    /// Decides a write on the current version (<paramref name="decide"/> may throw to refuse it, or return null for a
    /// no-op) and commits it as the next version; returns the version that is current afterwards, and whether it is new.
    /// </summary>
    public Task<(ConfigVersionRow Current, bool Written)> WriteAsync(string workspaceId, Func<ConfigVersionRow, IReadOnlySet<string>, ConfigChange?> decide,
        CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            if (database.Provider == StoreProvider.Postgres)
            {
                await connection.ExecuteAsync(new CommandDefinition("SELECT id FROM workspaces WHERE id = @workspaceId FOR UPDATE",
                    new { workspaceId }, transaction, cancellationToken: cancellationToken));
            }
            var current = await connection.QuerySingleOrDefaultAsync<ConfigVersionRow>(new CommandDefinition(
                $"{Select} WHERE workspace_id = @workspaceId ORDER BY version DESC LIMIT 1", new { workspaceId }, transaction,
                cancellationToken: cancellationToken)) ?? ConfigVersionRow.Initial;
            var names = await SecretStore.ConfigNamesAsync(connection, transaction, workspaceId, cancellationToken);
            if (decide(current, names) is not { } change)
            {
                return (current, false);
            }
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var (name, sealedValue) in change.SealedSecrets)
            {
                await SecretStore.UpsertAsync(connection, transaction, workspaceId, name, sealedValue, now, cancellationToken);
            }
            if (change.DeletedSecrets.Count > 0)
            {
                await secrets.DeleteAsync(connection, transaction, workspaceId, change.DeletedSecrets, cancellationToken);
            }
            var row = new ConfigVersionRow
            {
                Version = current.Version + 1,
                Document = change.Document,
                Hash = change.Hash,
                Author = change.Author,
                CreatedAt = now,
                Changes = change.Changes,
            };
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO workspace_config_versions (workspace_id, version, document, hash, author, created_at, changes) " +
                "VALUES (@workspaceId, @Version, @Document, @Hash, @Author, @CreatedAt, @Changes)",
                new { workspaceId, row.Version, row.Document, row.Hash, row.Author, row.CreatedAt, row.Changes }, transaction,
                cancellationToken: cancellationToken));
            return (row, true);
        }, cancellationToken);

    private const string Select = "SELECT version, document, hash, author, created_at, changes FROM workspace_config_versions";
}
