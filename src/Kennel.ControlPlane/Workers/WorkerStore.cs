using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.Workers;

public sealed class WorkerRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Kind { get; set; } = "";
    public string CredentialHash { get; set; } = "";
    public int Vcpus { get; set; }
    public int MemoryMb { get; set; }
    public int Slots { get; set; }
    public string Labels { get; set; } = "{}";
    public long EnrolledAt { get; set; }
    public long? LastSeenAt { get; set; }
    public int UsedVcpus { get; set; }
    public int UsedMemoryMb { get; set; }
    public int UsedSlots { get; set; }
    public long? DrainingSince { get; set; }
}

public sealed class WorkerTokenRow
{
    public string Id { get; set; } = "";
    public string SecretHash { get; set; } = "";
    public long ExpiresAt { get; set; }
    public long? UsedAt { get; set; }
}

/// <summary>
/// Workers are the installation's shared fleet, not any one workspace's data: every workspace's sessions run on them, and
/// only admins manage them. So these queries are not filtered by workspace; none of them returns a session.
/// </summary>
public sealed class WorkerStore(Database database)
{
    private const string SelectWithUsage =
        "SELECT w.id, w.name, w.kind, w.credential_hash, w.vcpus, w.memory_mb, w.slots, w.labels, w.enrolled_at, w.last_seen_at, w.draining_since, " +
        "COALESCE(SUM(s.vcpus), 0) AS used_vcpus, COALESCE(SUM(s.memory_mb), 0) AS used_memory_mb, COUNT(s.id) AS used_slots " +
        "FROM workers w LEFT JOIN sessions s ON s.worker_id = w.id AND s.status IN ('pending', 'running')";

    public Task<WorkerRow?> FindAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<WorkerRow>(new CommandDefinition(
            "SELECT id, name, kind, credential_hash, vcpus, memory_mb, slots, labels, enrolled_at, last_seen_at FROM workers WHERE id = @id",
            new { id }, cancellationToken: cancellationToken)), cancellationToken);

    public async Task<IReadOnlyList<WorkerRow>> ListAsync(CancellationToken cancellationToken) =>
        [.. await database.ReadAsync(connection => connection.QueryAsync<WorkerRow>(new CommandDefinition(
            $"{SelectWithUsage} GROUP BY w.id, w.name, w.kind, w.credential_hash, w.vcpus, w.memory_mb, w.slots, w.labels, w.enrolled_at, w.last_seen_at, " +
            "w.draining_since " +
            "ORDER BY w.enrolled_at, w.id", cancellationToken: cancellationToken)), cancellationToken)];

    /// <summary>Creates or re-keys a worker. Re-keying is how the embedded worker gets a fresh credential on each start.</summary>
    public Task UpsertAsync(WorkerRow row, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO workers (id, name, kind, credential_hash, vcpus, memory_mb, slots, labels, enrolled_at) " +
            "VALUES (@Id, @Name, @Kind, @CredentialHash, @Vcpus, @MemoryMb, @Slots, @Labels, @EnrolledAt) " +
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, credential_hash = excluded.credential_hash, vcpus = excluded.vcpus, " +
            "memory_mb = excluded.memory_mb, slots = excluded.slots, labels = excluded.labels",
            row, transaction, cancellationToken: cancellationToken)), cancellationToken);

    public Task InsertTokenAsync(string id, string secretHash, long now, long expiresAt, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO worker_tokens (id, secret_hash, created_at, expires_at) VALUES (@id, @secretHash, @now, @expiresAt)",
            new { id, secretHash, now, expiresAt }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>
    /// Spends an enrollment token and creates the worker in one transaction: a token buys exactly one worker, and a
    /// failed enrollment leaves the token unspent.
    /// </summary>
    public Task<bool> EnrollAsync(string tokenId, Func<WorkerTokenRow, bool> tokenIsValid, WorkerRow worker, long now, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var token = await connection.QuerySingleOrDefaultAsync<WorkerTokenRow>(new CommandDefinition(
                "SELECT id, secret_hash, expires_at, used_at FROM worker_tokens WHERE id = @tokenId", new { tokenId }, transaction,
                cancellationToken: cancellationToken));
            if (token is null || !tokenIsValid(token))
            {
                return false;
            }
            var spent = await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE worker_tokens SET used_at = @now, worker_id = @workerId WHERE id = @tokenId AND used_at IS NULL",
                new { now, workerId = worker.Id, tokenId }, transaction, cancellationToken: cancellationToken));
            if (spent != 1)
            {
                return false;
            }
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO workers (id, name, kind, credential_hash, vcpus, memory_mb, slots, labels, enrolled_at) " +
                "VALUES (@Id, @Name, @Kind, @CredentialHash, @Vcpus, @MemoryMb, @Slots, @Labels, @EnrolledAt)",
                worker, transaction, cancellationToken: cancellationToken));
            return true;
        }, cancellationToken);

    /// <summary>
    /// Deletes a worker unless a live session is assigned to it, in one statement so none can be claimed in between, and
    /// the enrollment token it was bought with.
    /// </summary>
    public Task<bool> RemoveIdleAsync(string id, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var removed = await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM workers WHERE id = @id AND NOT EXISTS (SELECT 1 FROM sessions WHERE worker_id = @id AND status IN ('pending', 'running'))",
                new { id }, transaction, cancellationToken: cancellationToken)) == 1 ||
                await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM workers WHERE id = @id", new { id }, transaction,
                    cancellationToken: cancellationToken)) == 0;
            if (removed)
            {
                await connection.ExecuteAsync(new CommandDefinition("DELETE FROM worker_tokens WHERE worker_id = @id", new { id }, transaction,
                    cancellationToken: cancellationToken));
            }
            return removed;
        }, cancellationToken);

    /// <summary>Stops offering the worker new sessions (see the claim in <c>SessionQueue</c>); the first call's time stays.</summary>
    public Task DrainAsync(string id, long now, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE workers SET draining_since = COALESCE(draining_since, @now) WHERE id = @id", new { id, now }, transaction,
            cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>How many live sessions (claimed, or running) the worker holds.</summary>
    public Task<long> LiveSessionsAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM sessions WHERE worker_id = @id AND status IN ('pending', 'running')", new { id },
            cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>
    /// Asks the worker to cancel every live session it holds, recording why: the worker hears it on its next poll and the
    /// session ends <c>cancelled</c> with this error. Returns how many were asked.
    /// </summary>
    public Task<int> CancelLiveSessionsAsync(string id, string errorCode, string errorMessage, long now, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE sessions SET cancel_requested_at = COALESCE(cancel_requested_at, @now), error_code = COALESCE(error_code, @errorCode), " +
            "error_message = COALESCE(error_message, @errorMessage) WHERE worker_id = @id AND status IN ('pending', 'running')",
            new { id, now, errorCode, errorMessage }, transaction, cancellationToken: cancellationToken)), cancellationToken);
}
