using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.ApiKeys;

public sealed class ApiKeyRow
{
    public string Id { get; set; } = "";
    public string WorkspaceId { get; set; } = "";
    public string WorkspaceName { get; set; } = "";
    public string Name { get; set; } = "";
    public string SecretHash { get; set; } = "";
    public string Scopes { get; set; } = "";
    public long CreatedAt { get; set; }
    public long? LastUsedAt { get; set; }
    public long? RevokedAt { get; set; }
}

public sealed class ApiKeyStore(Database database)
{
    /// <summary>Whether this process is the store's only writer (see <see cref="Database.IsExclusive"/>).</summary>
    public bool IsExclusive => database.IsExclusive;

    private const string SelectColumns =
        "SELECT k.id, k.workspace_id, w.name AS workspace_name, k.name, k.secret_hash, k.scopes, k.created_at, k.last_used_at, k.revoked_at " +
        "FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id";

    /// <summary>Looks a key up by its public id alone: this is the authentication path, before any workspace is known.</summary>
    public Task<ApiKeyRow?> FindForAuthenticationAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<ApiKeyRow>(
            new CommandDefinition($"{SelectColumns} WHERE k.id = @id", new { id }, cancellationToken: cancellationToken)), cancellationToken);

    public Task InsertAsync(ApiKeyRow row, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO api_keys (id, workspace_id, name, secret_hash, scopes, created_at) " +
            "VALUES (@Id, @WorkspaceId, @Name, @SecretHash, @Scopes, @CreatedAt)", row, transaction, cancellationToken: cancellationToken)),
            cancellationToken);

    public async Task<IReadOnlyList<ApiKeyRow>> ListAsync(string workspaceId, CancellationToken cancellationToken) =>
        [.. await database.ReadAsync(connection => connection.QueryAsync<ApiKeyRow>(new CommandDefinition(
            $"{SelectColumns} WHERE k.workspace_id = @workspaceId ORDER BY k.created_at, k.id", new { workspaceId },
            cancellationToken: cancellationToken)), cancellationToken)];

    public Task<ApiKeyRow?> FindAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<ApiKeyRow>(new CommandDefinition(
            $"{SelectColumns} WHERE k.workspace_id = @workspaceId AND k.id = @id", new { workspaceId, id },
            cancellationToken: cancellationToken)), cancellationToken);

    public Task RevokeAsync(string workspaceId, string id, long now, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE api_keys SET revoked_at = @now WHERE workspace_id = @workspaceId AND id = @id AND revoked_at IS NULL",
            new { workspaceId, id, now }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    public Task TouchAsync(string id, long now, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE api_keys SET last_used_at = @now WHERE id = @id", new { id, now }, transaction, cancellationToken: cancellationToken)),
            cancellationToken);

    /// <summary>Marks the bootstrap admin key as issued. Only the first caller across all replicas gets true.</summary>
    public Task<bool> ClaimBootstrapAsync(long now, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) => await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO installation (key, value) VALUES ('bootstrap_admin_key', @now) ON CONFLICT (key) DO NOTHING",
            new { now = now.ToString(System.Globalization.CultureInfo.InvariantCulture) }, transaction,
            cancellationToken: cancellationToken)) == 1, cancellationToken);
}
