using System.Data.Common;
using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.Snapshots;

/// <summary>
/// Snapshot queries. Every one that a person's request reaches names the workspace in its SQL; the builder's claim and
/// lease queries work on a build by its id, which they got from the claim.
/// </summary>
public sealed class SnapshotStore(Database database)
{
    /// <summary>The most log a build keeps; what comes after is dropped, with a note.</summary>
    public const int MaxLogChars = 512 * 1024;

    private const string Columns =
        "id, workspace_id, name, status, digest, size, base, recipe, tags, error_code, error_message, created_by, created_at, finished_at, " +
        "lease_owner, lease_expires_at, attempts";

    public Task InsertAsync(SnapshotRow row, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO snapshots ({Columns}, log) VALUES (@Id, @WorkspaceId, @Name, @Status, @Digest, @Size, @Base, @Recipe, @Tags, @ErrorCode, " +
            "@ErrorMessage, @CreatedBy, @CreatedAt, @FinishedAt, @LeaseOwner, @LeaseExpiresAt, @Attempts, @Log)",
            row, transaction, cancellationToken: cancellationToken)), cancellationToken);

    public Task<SnapshotRow?> GetAsync(string workspaceId, string id, bool withLog, CancellationToken cancellationToken) =>
        database.ReadRowAsync<SnapshotRow>(
            $"SELECT {Columns}{(withLog ? ", log" : "")} FROM snapshots WHERE workspace_id = @workspaceId AND id = @id",
            [("workspaceId", workspaceId), ("id", id)], cancellationToken);

    public Task<IReadOnlyList<SnapshotRow>> ListAsync(string workspaceId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<SnapshotRow>>(async connection => [.. await connection.QueryAsync<SnapshotRow>(new CommandDefinition(
            $"SELECT {Columns} FROM snapshots WHERE workspace_id = @workspaceId ORDER BY id DESC LIMIT 500", new { workspaceId },
            cancellationToken: cancellationToken))], cancellationToken);

    /// <summary>The tags of a workspace, as (name, tag, snapshot id).</summary>
    public Task<IReadOnlyList<(string Name, string Tag, string SnapshotId)>> TagsAsync(string workspaceId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<(string, string, string)>>(async connection => [.. await connection.QueryAsync<(string, string, string)>(
            new CommandDefinition("SELECT name, tag, snapshot_id FROM snapshot_tags WHERE workspace_id = @workspaceId ORDER BY name, tag",
                new { workspaceId }, cancellationToken: cancellationToken))], cancellationToken);

    /// <summary>How many workers hold each digest, from their latest polls.</summary>
    public Task<IReadOnlyList<string?>> WorkerHoldingsAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<string?>>(async connection => [.. await connection.QueryAsync<string?>(new CommandDefinition(
            "SELECT snapshots FROM workers WHERE snapshots IS NOT NULL", cancellationToken: cancellationToken))], cancellationToken);

    public Task<SnapshotRow?> ResolveAsync(string workspaceId, SnapshotReference reference, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => ResolveAsync(connection, null, workspaceId, reference, cancellationToken), cancellationToken);

    /// <summary>The ready build a reference names in the workspace, or null: by digest, or through its tag.</summary>
    internal static Task<SnapshotRow?> ResolveAsync(
        DbConnection connection, DbTransaction? transaction, string workspaceId, SnapshotReference reference, CancellationToken cancellationToken) =>
        connection.QueryFirstOrDefaultAsync<SnapshotRow?>(new CommandDefinition(reference.Digest is not null
            ? $"SELECT {Columns} FROM snapshots WHERE workspace_id = @workspaceId AND name = @Name AND digest = @Digest AND status = 'ready' ORDER BY id DESC"
            : $"SELECT {Prefixed} FROM snapshot_tags t JOIN snapshots s ON s.id = t.snapshot_id " +
              "WHERE t.workspace_id = @workspaceId AND t.name = @Name AND t.tag = @Tag AND s.status = 'ready'",
            new { workspaceId, reference.Name, reference.Tag, reference.Digest }, transaction, cancellationToken: cancellationToken));

    private static readonly string Prefixed = string.Join(", ", Columns.Split(", ").Select(c => "s." + c));

    /// <summary>Appends to a build's log, up to <see cref="MaxLogChars"/>.</summary>
    public Task AppendLogAsync(string id, string text, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE snapshots SET log = log || @text WHERE id = @id AND length(log) < @max", new { id, text, max = MaxLogChars }, transaction,
            cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>
    /// Takes one build nobody holds (new, or whose builder's lease ran out) for <paramref name="owner"/>, counting the
    /// attempt. Null when there is none.
    /// </summary>
    public Task<SnapshotRow?> ClaimBuildAsync(string owner, long now, long leaseUntil, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var row = await connection.QueryFirstOrDefaultAsync<SnapshotRow?>(new CommandDefinition(
                $"SELECT {Columns} FROM snapshots WHERE status = 'building' AND (lease_expires_at IS NULL OR lease_expires_at < @now) ORDER BY id LIMIT 1"
                + database.SkipLocked, new { now }, transaction, cancellationToken: cancellationToken));
            if (row is null)
            {
                return null;
            }
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE snapshots SET lease_owner = @owner, lease_expires_at = @leaseUntil, attempts = attempts + 1 WHERE id = @Id",
                new { owner, leaseUntil, row.Id }, transaction, cancellationToken: cancellationToken));
            row.Attempts++;
            row.LeaseOwner = owner;
            return row;
        }, cancellationToken);

    /// <summary>Extends a build's lease; false when its builder no longer holds it.</summary>
    public Task<bool> RenewLeaseAsync(string id, string owner, long leaseUntil, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) => await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE snapshots SET lease_expires_at = @leaseUntil WHERE id = @id AND lease_owner = @owner AND status = 'building'",
            new { id, owner, leaseUntil }, transaction, cancellationToken: cancellationToken)) == 1, cancellationToken);

    /// <summary>Marks a build ready with its image and moves its tags, in one transaction: never ready without an image digest.</summary>
    public Task<bool> MarkReadyAsync(SnapshotRow row, string owner, string digest, long size, long now, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var updated = await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE snapshots SET status = 'ready', digest = @digest, size = @size, finished_at = @now, lease_owner = NULL, lease_expires_at = NULL " +
                "WHERE id = @Id AND lease_owner = @owner AND status = 'building'",
                new { row.Id, owner, digest, size, now }, transaction, cancellationToken: cancellationToken));
            if (updated != 1)
            {
                return false;
            }
            foreach (var tag in System.Text.Json.JsonSerializer.Deserialize(row.Tags, SnapshotJson.Default.StringArray) ?? [])
            {
                await MoveTagAsync(connection, transaction, row.WorkspaceId, row.Name, tag, row.Id, "build", row.CreatedBy, now, cancellationToken);
            }
            return true;
        }, cancellationToken);

    public Task<bool> MarkFailedAsync(string id, string? owner, string code, string message, long now, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) => await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE snapshots SET status = 'failed', error_code = @code, error_message = @message, finished_at = @now, lease_owner = NULL, " +
            "lease_expires_at = NULL WHERE id = @id AND status = 'building'" + (owner is null ? "" : " AND lease_owner = @owner"),
            new { id, owner, code, message, now }, transaction, cancellationToken: cancellationToken)) == 1, cancellationToken);

    /// <summary>Points a tag at a snapshot and records the move.</summary>
    internal static async Task MoveTagAsync(DbConnection connection, DbTransaction transaction, string workspaceId, string name, string tag,
        string snapshotId, string reason, string? actor, long now, CancellationToken cancellationToken)
    {
        var previous = await connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT snapshot_id FROM snapshot_tags WHERE workspace_id = @workspaceId AND name = @name AND tag = @tag",
            new { workspaceId, name, tag }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO snapshot_tags (workspace_id, name, tag, snapshot_id, updated_at) VALUES (@workspaceId, @name, @tag, @snapshotId, @now) " +
            "ON CONFLICT (workspace_id, name, tag) DO UPDATE SET snapshot_id = excluded.snapshot_id, updated_at = excluded.updated_at",
            new { workspaceId, name, tag, snapshotId, now }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO snapshot_tag_events (id, workspace_id, name, tag, previous_snapshot_id, snapshot_id, reason, actor, at) " +
            "VALUES (@id, @workspaceId, @name, @tag, @previous, @snapshotId, @reason, @actor, @now)",
            new { id = SortableId.New("stg", TimeProvider.System), workspaceId, name, tag, previous, snapshotId, reason, actor, now }, transaction,
            cancellationToken: cancellationToken));
    }

    public Task MoveTagAsync(string workspaceId, string name, string tag, string snapshotId, string reason, string? actor, long now,
        CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
            MoveTagAsync(connection, transaction, workspaceId, name, tag, snapshotId, reason, actor, now, cancellationToken), cancellationToken);

    /// <summary>A tag's moves, newest first.</summary>
    public Task<IReadOnlyList<TagEventRow>> TagEventsAsync(string workspaceId, string name, string tag, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<TagEventRow>>(async connection => [.. await connection.QueryAsync<TagEventRow>(new CommandDefinition(
            "SELECT name, tag, previous_snapshot_id, snapshot_id, reason, at FROM snapshot_tag_events " +
            "WHERE workspace_id = @workspaceId AND name = @name AND tag = @tag ORDER BY id DESC LIMIT 100",
            new { workspaceId, name, tag }, cancellationToken: cancellationToken))], cancellationToken);

    /// <summary>Deletes a finished build and the tags that point to it; the tags' history stays.</summary>
    public Task<bool> DeleteAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM snapshot_tags WHERE workspace_id = @workspaceId AND snapshot_id = @id", new { workspaceId, id }, transaction,
                cancellationToken: cancellationToken));
            return await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM snapshots WHERE workspace_id = @workspaceId AND id = @id AND status <> 'building'", new { workspaceId, id }, transaction,
                cancellationToken: cancellationToken)) == 1;
        }, cancellationToken);

    /// <summary>Whether any row (a build of any workspace, or a cached step) still names the image.</summary>
    public Task<bool> ImageInUseAsync(string digest, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection => await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT (SELECT COUNT(*) FROM snapshots WHERE digest = @digest) + (SELECT COUNT(*) FROM snapshot_steps WHERE digest = @digest)",
            new { digest }, cancellationToken: cancellationToken)) > 0, cancellationToken);

    /// <summary>Whether a live session runs on the image.</summary>
    public Task<bool> InUseBySessionsAsync(string workspaceId, string digest, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection => await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM sessions WHERE workspace_id = @workspaceId AND snapshot_digest = @digest AND status IN ('pending', 'running')",
            new { workspaceId, digest }, cancellationToken: cancellationToken)) > 0, cancellationToken);

    /// <summary>The step cache: the image after a step with these inputs, if one was built.</summary>
    public Task<(string Digest, long Size)?> CachedStepAsync(string workspaceId, string key, CancellationToken cancellationToken) =>
        database.ReadAsync<(string, long)?>(async connection =>
        {
            var rows = (await connection.QueryAsync<(string Digest, long Size)>(new CommandDefinition(
                "SELECT digest, size FROM snapshot_steps WHERE workspace_id = @workspaceId AND step_key = @key", new { workspaceId, key },
                cancellationToken: cancellationToken))).ToList();
            return rows.Count == 0 ? null : rows[0];
        }, cancellationToken);

    public Task CacheStepAsync(string workspaceId, string key, string digest, long size, long now, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO snapshot_steps (workspace_id, step_key, digest, size, created_at) VALUES (@workspaceId, @key, @digest, @size, @now) " +
            "ON CONFLICT (workspace_id, step_key) DO UPDATE SET digest = excluded.digest, size = excluded.size",
            new { workspaceId, key, digest, size, now }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Whether a worker holding a live session on the image may fetch it: the worker protocol's grant.</summary>
    public Task<bool> WorkerMayFetchAsync(string workerId, string digest, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection => await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM sessions WHERE worker_id = @workerId AND snapshot_digest = @digest AND status IN ('pending', 'running')",
            new { workerId, digest }, cancellationToken: cancellationToken)) > 0, cancellationToken);
}

public sealed class TagEventRow
{
    public string Name { get; set; } = "";
    public string Tag { get; set; } = "";
    public string? PreviousSnapshotId { get; set; }
    public string SnapshotId { get; set; } = "";
    public string Reason { get; set; } = "";
    public long At { get; set; }
}
