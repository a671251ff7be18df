using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.Users;

public sealed class UserRow
{
    public string Id { get; set; } = "";
    public string Email { get; set; } = "";
    public string PasswordHash { get; set; } = "";
    public long CreatedAt { get; set; }
    public int FailedLogins { get; set; }
    public long? LastFailedLoginAt { get; set; }
}

public sealed class MembershipRow
{
    public string UserId { get; set; } = "";
    public string WorkspaceId { get; set; } = "";
    public string WorkspaceName { get; set; } = "";
    public string Role { get; set; } = "";
}

/// <summary>Users are installation-wide (an email signs in once); what they may do is per workspace, by membership.</summary>
public sealed class UserStore(Database database)
{
    private static readonly string[] UserTables = ["memberships", "oauth_consents", "login_sessions"];
    private const string MembershipColumns =
        "SELECT m.user_id, m.workspace_id, w.name AS workspace_name, m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id";

    public Task<UserRow?> FindByEmailAsync(string email, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(
            "SELECT * FROM users WHERE email = @email", new { email }, cancellationToken: cancellationToken)), cancellationToken);

    public Task<UserRow?> FindAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(
            "SELECT * FROM users WHERE id = @id", new { id }, cancellationToken: cancellationToken)), cancellationToken);

    public async Task<IReadOnlyList<UserRow>> ListAsync(CancellationToken cancellationToken) =>
        [.. await database.ReadAsync(connection => connection.QueryAsync<UserRow>(new CommandDefinition(
            "SELECT * FROM users ORDER BY email", cancellationToken: cancellationToken)), cancellationToken)];

    public async Task<IReadOnlyList<MembershipRow>> MembershipsAsync(string? userId, CancellationToken cancellationToken) =>
        [.. await database.ReadAsync(connection => connection.QueryAsync<MembershipRow>(new CommandDefinition(
            userId is null ? $"{MembershipColumns} ORDER BY w.name" : $"{MembershipColumns} WHERE m.user_id = @userId ORDER BY w.name",
            new { userId }, cancellationToken: cancellationToken)), cancellationToken)];

    /// <summary>Inserts the user and, when given, their first membership, together. False when the email is taken.</summary>
    public Task<bool> InsertAsync(UserRow user, MembershipRow? membership, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var inserted = await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO users (id, email, password_hash, created_at) VALUES (@Id, @Email, @PasswordHash, @CreatedAt) ON CONFLICT (email) DO NOTHING",
                user, transaction, cancellationToken: cancellationToken));
            if (inserted == 1 && membership is not null)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO memberships (user_id, workspace_id, role, created_at) VALUES (@UserId, @WorkspaceId, @Role, @createdAt)",
                    new { membership.UserId, membership.WorkspaceId, membership.Role, createdAt = user.CreatedAt }, transaction,
                    cancellationToken: cancellationToken));
            }
            return inserted == 1;
        }, cancellationToken);

    /// <summary>Adds the membership, or changes its role.</summary>
    public Task SetRoleAsync(string userId, string workspaceId, string role, long now, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO memberships (user_id, workspace_id, role, created_at) VALUES (@userId, @workspaceId, @role, @now) " +
            "ON CONFLICT (user_id, workspace_id) DO UPDATE SET role = @role",
            new { userId, workspaceId, role, now }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Sets the password and, in the same transaction, ends the user's sign-in sessions.</summary>
    public Task<bool> SetPasswordAsync(string id, string passwordHash, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await EndLoginSessionsAsync(connection, transaction, id, cancellationToken);
            return await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE users SET password_hash = @passwordHash, failed_logins = 0, last_failed_login_at = NULL WHERE id = @id",
                new { id, passwordHash }, transaction, cancellationToken: cancellationToken)) == 1;
        }, cancellationToken);

    /// <summary>Signs the user out of every browser: the login and consent pages ask for the password again.</summary>
    public Task EndLoginSessionsAsync(string id, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => EndLoginSessionsAsync(connection, transaction, id, cancellationToken), cancellationToken);

    private static Task<int> EndLoginSessionsAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, string id,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("DELETE FROM login_sessions WHERE user_id = @id", new { id }, transaction,
            cancellationToken: cancellationToken));

    /// <summary>Deletes the user with their memberships, consents and sign-in sessions; the caller revokes their grants.</summary>
    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            foreach (var table in UserTables)
            {
                await connection.ExecuteAsync(new CommandDefinition($"DELETE FROM {table} WHERE user_id = @id", new { id }, transaction,
                    cancellationToken: cancellationToken));
            }
            return await connection.ExecuteAsync(new CommandDefinition("DELETE FROM users WHERE id = @id", new { id }, transaction,
                cancellationToken: cancellationToken)) == 1;
        }, cancellationToken);

    /// <summary>
    /// Counts a sign-in attempt as failed before its password is checked (success clears the count), if the count is
    /// still <paramref name="seen"/>: one UPDATE, so of concurrent attempts each takes its own place. False when another
    /// attempt moved the count first.
    /// </summary>
    public async Task<bool> ReserveLoginAttemptAsync(string id, int seen, long now, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE users SET failed_logins = failed_logins + 1, last_failed_login_at = @now WHERE id = @id AND failed_logins = @seen",
            new { id, seen, now }, transaction, cancellationToken: cancellationToken)), cancellationToken) == 1;

    public Task ClearFailedLoginsAsync(string id, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE users SET failed_logins = 0, last_failed_login_at = NULL WHERE id = @id AND failed_logins > 0",
            new { id }, transaction, cancellationToken: cancellationToken)), cancellationToken);
}
