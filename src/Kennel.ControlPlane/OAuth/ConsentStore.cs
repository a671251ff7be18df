using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.OAuth;

/// <summary>Consent remembered per user, client, workspace, endpoint and scope set; a user's consents can be revoked.</summary>
public sealed class ConsentStore(Database database)
{
    public async Task<bool> ExistsAsync(string userId, string clientId, string workspaceId, string resource, string scope, CancellationToken cancellationToken) =>
        await database.ReadAsync(connection => connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT COUNT(*) FROM oauth_consents WHERE user_id = @userId AND client_id = @clientId AND workspace_id = @workspaceId " +
            "AND resource = @resource AND scope = @scope", new { userId, clientId, workspaceId, resource, scope }, cancellationToken: cancellationToken)),
            cancellationToken) > 0;

    public Task RememberAsync(string userId, string clientId, string workspaceId, string resource, string scope, long now, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO oauth_consents (user_id, client_id, workspace_id, resource, scope, created_at) " +
            "VALUES (@userId, @clientId, @workspaceId, @resource, @scope, @now) ON CONFLICT DO NOTHING",
            new { userId, clientId, workspaceId, resource, scope, now }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Forgets every consent the user gave (the next authorization asks again); returns how many there were.</summary>
    public Task<int> RevokeAsync(string userId, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM oauth_consents WHERE user_id = @userId", new { userId }, transaction, cancellationToken: cancellationToken)), cancellationToken);
}
