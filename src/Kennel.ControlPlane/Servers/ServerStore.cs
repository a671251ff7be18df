using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.Servers;

public sealed class HostKeyRow
{
    public string Algorithm { get; set; } = "";
    public string Fingerprint { get; set; } = "";
}

public sealed class ServerRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Address { get; set; } = "";
    public int Port { get; set; }
    public string Username { get; set; } = "";
    public string AuthMethod { get; set; } = "";
    public string? Credential { get; set; }
    public string Status { get; set; } = "";
    public string? ErrorCode { get; set; }
    public string? ErrorMessage { get; set; }
    public string? HostKey { get; set; }
    public string? System { get; set; }
    public string? EnrollmentTokenId { get; set; }
    public string? WorkerId { get; set; }
    public string? Cloud { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
}

public sealed class ServerStepRow
{
    public string ServerId { get; set; } = "";
    public int Seq { get; set; }
    public long At { get; set; }
    public string Status { get; set; } = "";
    public string Message { get; set; } = "";
}

/// <summary>
/// Server queries. Servers, like the workers they become, belong to the installation rather than a workspace (see
/// migration 0024), so these queries are not filtered by workspace; only installation admins reach them.
/// </summary>
public sealed class ServerStore(Database database)
{
    public Task<HostKeyRow?> FindHostKeyAsync(string address, int port, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<HostKeyRow>(new CommandDefinition(
            "SELECT algorithm, fingerprint FROM server_host_keys WHERE address = @address AND port = @port",
            new { address, port }, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>
    /// Trusts a key for the address and port. A new key is only remembered when none is (first use: two first uses racing
    /// keep the first); a pinned key replaces what was remembered, since the caller checked it themselves.
    /// </summary>
    public Task TrustHostKeyAsync(string address, int port, string algorithm, string fingerprint, bool replace, long now, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO server_host_keys (address, port, algorithm, fingerprint, trusted_at) VALUES (@address, @port, @algorithm, @fingerprint, @now) " +
            (replace
                ? "ON CONFLICT (address, port) DO UPDATE SET algorithm = excluded.algorithm, fingerprint = excluded.fingerprint, trusted_at = excluded.trusted_at"
                : "ON CONFLICT (address, port) DO NOTHING"),
            new { address, port, algorithm, fingerprint, now }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    private const string Columns = "id, name, address, port, username, auth_method, credential, status, error_code, error_message, host_key, system, " +
        "enrollment_token_id, worker_id, cloud, created_at, updated_at";

    /// <summary>Adds a server with its first step; false when the name or the address and port are taken.</summary>
    public Task<bool> InsertAsync(ServerRow row, string message, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var taken = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM servers WHERE name = @Name OR (address = @Address AND port = @Port)", row, transaction,
                cancellationToken: cancellationToken));
            if (taken > 0)
            {
                return false;
            }
            await connection.ExecuteAsync(new CommandDefinition(
                $"INSERT INTO servers ({Columns}) VALUES (@Id, @Name, @Address, @Port, @Username, @AuthMethod, @Credential, @Status, @ErrorCode, " +
                "@ErrorMessage, @HostKey, @System, @EnrollmentTokenId, @WorkerId, @Cloud, @CreatedAt, @UpdatedAt)", row, transaction, cancellationToken: cancellationToken));
            await AppendStepAsync(connection, transaction, row.Id, row.Status, message, row.CreatedAt, cancellationToken);
            return true;
        }, cancellationToken);

    /// <summary>Moves a server to <paramref name="status"/> and logs the step, in one transaction.</summary>
    public Task StepAsync(string id, string status, string message, long now, CancellationToken cancellationToken, string? errorCode = null,
        string? hostKey = null, string? system = null, string? enrollmentTokenId = null, string? workerId = null) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE servers SET status = @status, updated_at = @now, error_code = @errorCode, error_message = @errorMessage, " +
                "host_key = COALESCE(@hostKey, host_key), system = COALESCE(@system, system), " +
                "enrollment_token_id = COALESCE(@enrollmentTokenId, enrollment_token_id), worker_id = COALESCE(@workerId, worker_id) WHERE id = @id",
                new { id, status, now, errorCode, errorMessage = errorCode is null ? null : message, hostKey, system, enrollmentTokenId, workerId },
                transaction, cancellationToken: cancellationToken));
            await AppendStepAsync(connection, transaction, id, status, message, now, cancellationToken);
        }, cancellationToken);

    /// <summary>What add-server-ec2 created so far (JSON), so a failed launch or delete-server can clean it up.</summary>
    public Task SetCloudAsync(string id, string cloud, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE servers SET cloud = @cloud WHERE id = @id", new { id, cloud }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>The address of a launched instance, once EC2 gave it one.</summary>
    public Task SetAddressAsync(string id, string address, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE servers SET address = @address WHERE id = @id", new { id, address }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Logs a step in the server's current status, which (with its error) stays as it is.</summary>
    public Task NoteAsync(string id, string message, long now, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var status = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT status FROM servers WHERE id = @id", new { id }, transaction, cancellationToken: cancellationToken));
            if (status is not null)
            {
                await connection.ExecuteAsync(new CommandDefinition("UPDATE servers SET updated_at = @now WHERE id = @id", new { id, now }, transaction,
                    cancellationToken: cancellationToken));
                await AppendStepAsync(connection, transaction, id, status, message, now, cancellationToken);
            }
        }, cancellationToken);

    public Task ForgetCredentialAsync(string id, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE servers SET credential = NULL WHERE id = @id", new { id }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    public Task<ServerRow?> FindAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<ServerRow>(new CommandDefinition(
            $"SELECT {Columns} FROM servers WHERE id = @id", new { id }, cancellationToken: cancellationToken)), cancellationToken);

    public async Task<IReadOnlyList<ServerRow>> ListAsync(CancellationToken cancellationToken) =>
        [.. await database.ReadAsync(connection => connection.QueryAsync<ServerRow>(new CommandDefinition(
            $"SELECT {Columns} FROM servers ORDER BY created_at, id", cancellationToken: cancellationToken)), cancellationToken)];

    /// <summary>Each server's newest step.</summary>
    public async Task<IReadOnlyList<ServerStepRow>> LastStepsAsync(CancellationToken cancellationToken) =>
        [.. await database.ReadAsync(connection => connection.QueryAsync<ServerStepRow>(new CommandDefinition(
            "SELECT s.server_id, s.seq, s.at, s.status, s.message FROM server_steps s " +
            "JOIN (SELECT server_id, MAX(seq) AS seq FROM server_steps GROUP BY server_id) n ON n.server_id = s.server_id AND n.seq = s.seq",
            cancellationToken: cancellationToken)), cancellationToken)];

    public async Task<IReadOnlyList<ServerStepRow>> StepsAsync(string id, CancellationToken cancellationToken) =>
        [.. await database.ReadAsync(connection => connection.QueryAsync<ServerStepRow>(new CommandDefinition(
            "SELECT server_id, seq, at, status, message FROM server_steps WHERE server_id = @id ORDER BY seq", new { id },
            cancellationToken: cancellationToken)), cancellationToken)];

    /// <summary>The worker that spent this server's enrollment token, once it has polled: that is when the server is ready.</summary>
    public Task<string?> PolledWorkerAsync(string tokenId, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT w.id FROM worker_tokens t JOIN workers w ON w.id = t.worker_id WHERE t.id = @tokenId AND w.last_seen_at IS NOT NULL",
            new { tokenId }, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Servers whose bootstrap a control plane was running when it stopped: nothing will carry them on.</summary>
    public async Task<IReadOnlyList<string>> UnfinishedAsync(long updatedBefore, CancellationToken cancellationToken) =>
        [.. await database.ReadAsync(connection => connection.QueryAsync<string>(new CommandDefinition(
            "SELECT id FROM servers WHERE status IN ('provisioning', 'launching', 'connecting', 'bootstrapping', 'enrolling') AND updated_at < @updatedBefore",
            new { updatedBefore }, cancellationToken: cancellationToken)), cancellationToken)];

    /// <summary>Servers whose removal no step has moved on since <paramref name="updatedBefore"/>.</summary>
    public async Task<IReadOnlyList<string>> UnfinishedRemovalsAsync(long updatedBefore, CancellationToken cancellationToken) =>
        [.. await database.ReadAsync(connection => connection.QueryAsync<string>(new CommandDefinition(
            "SELECT id FROM servers WHERE status IN ('draining', 'deleting') AND updated_at < @updatedBefore",
            new { updatedBefore }, cancellationToken: cancellationToken)), cancellationToken)];

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM server_steps WHERE server_id = @id", new { id }, transaction,
                cancellationToken: cancellationToken));
            return await connection.ExecuteAsync(new CommandDefinition("DELETE FROM servers WHERE id = @id", new { id }, transaction,
                cancellationToken: cancellationToken)) == 1;
        }, cancellationToken);

    private static Task<int> AppendStepAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, string id,
        string status, string message, long now, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO server_steps (server_id, seq, at, status, message) " +
            "SELECT @id, COALESCE(MAX(seq), 0) + 1, @now, @status, @message FROM server_steps WHERE server_id = @id",
            new { id, now, status, message }, transaction, cancellationToken: cancellationToken));
}
