using Dapper;
using Kennel.Contracts.OAuth;
using Kennel.Store;

namespace Kennel.ControlPlane.OAuth;

public sealed class GrantRow
{
    public string Id { get; set; } = "";
    public string ClientId { get; set; } = "";
    public string UserId { get; set; } = "";
    public string WorkspaceId { get; set; } = "";
    public string WorkspaceName { get; set; } = "";
    public string Resource { get; set; } = "";
    public string Scope { get; set; } = "";
    public long CreatedAt { get; set; }
    public long? RevokedAt { get; set; }
}

/// <summary>What redeeming a code or a refresh token found: the grant, or why not.</summary>
public enum Redemption
{
    Redeemed,
    Unknown,
    Expired,
    /// <summary>Presented a second time: the grant (every token issued from it) has been revoked.</summary>
    Reused,
    Revoked,
    /// <summary>Issued to another client: refused, and left unused for its own.</summary>
    WrongClient,
    /// <summary>Presented without what the code is bound to (redirect URI, PKCE verifier, resource): refused, and left unused.</summary>
    Refused,
}

/// <summary>
/// Grants and the secrets that redeem them: authorization codes (single use, 10 minutes) and refresh tokens (single use,
/// rotated). Secrets are stored as SHA-256 hashes; they carry 256 random bits, so a fast hash is enough.
/// </summary>
public sealed class GrantStore(Database database, RevokedGrants revoked)
{
    private const string GrantColumns =
        "SELECT g.id, g.client_id, g.user_id, g.workspace_id, w.name AS workspace_name, g.resource, g.scope, g.created_at, g.revoked_at " +
        "FROM oauth_grants g JOIN workspaces w ON w.id = g.workspace_id";

    public Task CreateWithCodeAsync(GrantRow grant, string codeHash, string redirectUri, string? codeChallenge, long expiresAt, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO oauth_grants (id, client_id, user_id, workspace_id, resource, scope, created_at) " +
                "VALUES (@Id, @ClientId, @UserId, @WorkspaceId, @Resource, @Scope, @CreatedAt)", grant, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO oauth_codes (code_hash, grant_id, redirect_uri, code_challenge, expires_at) VALUES (@codeHash, @grantId, @redirectUri, @codeChallenge, @expiresAt)",
                new { codeHash, grantId = grant.Id, redirectUri, codeChallenge, expiresAt }, transaction, cancellationToken: cancellationToken));
        }, cancellationToken);

    /// <summary>
    /// Uses a code once, if <paramref name="check"/> (given the code's redirect URI, its PKCE challenge and the grant's
    /// resource) finds no reason to refuse it: a refused presentation leaves the code for its rightful holder. A second
    /// use revokes the grant, and with it every token issued from the first.
    /// </summary>
    public async Task<(Redemption Outcome, GrantRow? Grant, OAuthError? Refusal)> RedeemCodeAsync(string codeHash, string clientId, long now,
        Func<string, string?, string, OAuthError?> check, CancellationToken cancellationToken)
    {
        var result = await database.WriteAsync(async (connection, transaction) =>
        {
            var code = await connection.QuerySingleOrDefaultAsync<CodeRow>(new CommandDefinition(
                "SELECT grant_id, redirect_uri, code_challenge, expires_at, used_at FROM oauth_codes WHERE code_hash = @codeHash",
                new { codeHash }, transaction, cancellationToken: cancellationToken));
            if (code is null)
            {
                return (Redemption.Unknown, (GrantRow?)null, (OAuthError?)null);
            }
            var grant = await connection.QuerySingleAsync<GrantRow>(new CommandDefinition($"{GrantColumns} WHERE g.id = @grantId",
                new { grantId = code.GrantId }, transaction, cancellationToken: cancellationToken));
            if (grant.ClientId != clientId)
            {
                return (Redemption.WrongClient, null, null);
            }
            if (code.UsedAt is null && check(code.RedirectUri, code.CodeChallenge, grant.Resource) is { } refusal)
            {
                return (Redemption.Refused, null, refusal);
            }
            var used = await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE oauth_codes SET used_at = @now WHERE code_hash = @codeHash AND used_at IS NULL", new { codeHash, now }, transaction,
                cancellationToken: cancellationToken));
            if (used == 0)
            {
                await RevokeAsync(connection, transaction, "id = @grantId", new { grantId = code.GrantId, now }, cancellationToken);
                return (Redemption.Reused, grant, null);
            }
            var outcome = code.ExpiresAt <= now ? Redemption.Expired : grant.RevokedAt is not null ? Redemption.Revoked : Redemption.Redeemed;
            return (outcome, grant, null);
        }, cancellationToken);
        if (result.Item1 == Redemption.Reused)
        {
            revoked.Add(result.Item2!.Id);
        }
        return result;
    }

    public Task AddRefreshTokenAsync(string grantId, string tokenHash, long now, long expiresAt, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO oauth_refresh_tokens (token_hash, grant_id, created_at, expires_at) VALUES (@tokenHash, @grantId, @now, @expiresAt)",
            new { tokenHash, grantId, now, expiresAt }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Uses a refresh token once (the caller issues its successor). A second use revokes the whole family.</summary>
    public async Task<(Redemption Outcome, GrantRow? Grant)> RedeemRefreshTokenAsync(string tokenHash, string clientId, long now, CancellationToken cancellationToken)
    {
        var result = await database.WriteAsync(async (connection, transaction) =>
        {
            var token = await connection.QuerySingleOrDefaultAsync<RefreshRow>(new CommandDefinition(
                "SELECT grant_id, expires_at, used_at FROM oauth_refresh_tokens WHERE token_hash = @tokenHash", new { tokenHash }, transaction,
                cancellationToken: cancellationToken));
            if (token is null)
            {
                return (Redemption.Unknown, (GrantRow?)null);
            }
            var grant = await connection.QuerySingleAsync<GrantRow>(new CommandDefinition($"{GrantColumns} WHERE g.id = @grantId",
                new { grantId = token.GrantId }, transaction, cancellationToken: cancellationToken));
            if (grant.ClientId != clientId)
            {
                return (Redemption.WrongClient, null);
            }
            var used = await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE oauth_refresh_tokens SET used_at = @now WHERE token_hash = @tokenHash AND used_at IS NULL", new { tokenHash, now }, transaction,
                cancellationToken: cancellationToken));
            if (used == 0)
            {
                await RevokeAsync(connection, transaction, "id = @grantId", new { grantId = token.GrantId, now }, cancellationToken);
                return (Redemption.Reused, grant);
            }
            return (token.ExpiresAt <= now ? Redemption.Expired : grant.RevokedAt is not null ? Redemption.Revoked : Redemption.Redeemed, grant);
        }, cancellationToken);
        if (result.Item1 == Redemption.Reused)
        {
            revoked.Add(result.Item2!.Id);
        }
        return result;
    }

    public Task<GrantRow?> FindByRefreshTokenAsync(string tokenHash, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<GrantRow>(new CommandDefinition(
            $"{GrantColumns} JOIN oauth_refresh_tokens t ON t.grant_id = g.id WHERE t.token_hash = @tokenHash", new { tokenHash },
            cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>The client a grant was given to; null when there is no such grant.</summary>
    public Task<string?> ClientIdAsync(string grantId, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT client_id FROM oauth_grants WHERE id = @grantId", new { grantId }, cancellationToken: cancellationToken)), cancellationToken);

    public async Task RevokeAsync(string grantId, long now, CancellationToken cancellationToken)
    {
        await database.WriteAsync((connection, transaction) => RevokeAsync(connection, transaction, "id = @grantId", new { grantId, now }, cancellationToken),
            cancellationToken);
        revoked.Add(grantId);
    }

    /// <summary>Revokes every grant of a user (when the user is deleted).</summary>
    public async Task RevokeForUserAsync(string userId, long now, CancellationToken cancellationToken)
    {
        var ids = await database.WriteAsync(async (connection, transaction) =>
        {
            var ids = (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT id FROM oauth_grants WHERE user_id = @userId AND revoked_at IS NULL", new { userId }, transaction, cancellationToken: cancellationToken))).ToList();
            await RevokeAsync(connection, transaction, "user_id = @userId", new { userId, now }, cancellationToken);
            return ids;
        }, cancellationToken);
        foreach (var id in ids)
        {
            revoked.Add(id);
        }
    }

    private static Task<int> RevokeAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, string where, object parameters, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition($"UPDATE oauth_grants SET revoked_at = @now WHERE {where} AND revoked_at IS NULL", parameters, transaction,
            cancellationToken: cancellationToken));

    private sealed class CodeRow
    {
        public string GrantId { get; set; } = "";
        public string RedirectUri { get; set; } = "";
        public string? CodeChallenge { get; set; }
        public long ExpiresAt { get; set; }
        public long? UsedAt { get; set; }
    }

    private sealed class RefreshRow
    {
        public string GrantId { get; set; } = "";
        public long ExpiresAt { get; set; }
        public long? UsedAt { get; set; }
    }
}
