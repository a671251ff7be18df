using System.Data.Common;
using System.Text;
using System.Text.Json;
using Dapper;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;

namespace Kennel.ControlPlane.Delivery;

/// <summary>
/// The outbox of outbound webhooks (<c>webhook_outbox</c>): a feature enqueues a message inside its own transaction, so
/// its result and the delivery of it commit together or not at all; <see cref="WebhookSender"/> claims due rows under a
/// lease on any control plane and records each attempt here. Every read for people names the workspace in its SQL.
/// </summary>
public sealed class WebhookOutbox(Database database, KeyEncryption encryption, ChangeSignal signal, TimeProvider time)
{
    /// <summary>The largest body accepted: a webhook reports a result, it does not carry files.</summary>
    public const int MaxBodyBytes = 256 * 1024;

    private const string Columns =
        "id, workspace_id, source_kind, source_id, url, secret, body, status, attempts, next_attempt_at, last_error, last_http_status, created_at, delivered_at";

    /// <summary>
    /// Adds <paramref name="message"/> to the outbox inside the caller's transaction, due at once, and returns its id (the
    /// <c>webhook-id</c> its receiver will see on every attempt). The secret is stored encrypted. Call <see cref="Wake"/>
    /// after the transaction commits, so this control plane sends it at once rather than on its next look. Throws
    /// <see cref="ArgumentException"/> for a message a caller should have refused at its edge.
    /// </summary>
    public async Task<string> EnqueueAsync(DbConnection connection, DbTransaction transaction, OutboundWebhook message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        Validate(message);
        var id = SortableId.New("msg", time);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO webhook_outbox (id, workspace_id, source_kind, source_id, url, secret, body, status, attempts, next_attempt_at, created_at) " +
            "VALUES (@id, @WorkspaceId, @SourceKind, @SourceId, @Url, @secret, @Body, @status, 0, @now, @now)",
            new
            {
                id,
                message.WorkspaceId,
                message.SourceKind,
                message.SourceId,
                message.Url,
                secret = encryption.Encrypt(AssociatedData(id), Encoding.UTF8.GetBytes(message.Secret)),
                message.Body,
                status = OutboundWebhookStatus.Pending,
                now,
            }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return id;
    }

    /// <summary>Tells this control plane's sender that a message was committed; the others find it on their next look.</summary>
    public void Wake() => signal.PulseOutbox();

    /// <summary>
    /// Where the deliveries of <paramref name="sourceIds"/> (of <paramref name="sourceKind"/>, in the workspace) stand, by
    /// source id; the newest delivery of each when it has several. A source without a delivery, or whose delivery ended
    /// longer than the retention ago, is absent.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, OutboundWebhookState>> StatesAsync(
        string workspaceId, string sourceKind, IReadOnlyCollection<string> sourceIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sourceIds);
        if (sourceIds.Count == 0)
        {
            return new Dictionary<string, OutboundWebhookState>(StringComparer.Ordinal);
        }
        var rows = await database.ReadAsync(connection => connection.QueryAsync<OutboxRow>(new CommandDefinition(
            $"SELECT {Columns} FROM webhook_outbox WHERE workspace_id = @workspaceId AND source_kind = @sourceKind " +
            $"AND source_id {database.InList("sourceIds")} ORDER BY id",
            new { workspaceId, sourceKind, sourceIds = sourceIds.ToArray() }, cancellationToken: cancellationToken)), cancellationToken).ConfigureAwait(false);
        var states = new Dictionary<string, OutboundWebhookState>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            states[row.SourceId] = row.ToState();
        }
        return states;
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> due messages for <paramref name="owner"/> until <paramref name="lease"/>, counting
    /// the attempt now: a message whose sender died mid-send is due again once its lease runs out. The candidates are read
    /// first, so an idle poll writes nothing; the conditional update decides between replicas racing for one. A message
    /// whose last attempt was cut off that way is given up on rather than claimed.
    /// </summary>
    internal async Task<List<OutboxRow>> ClaimAsync(string owner, long now, long lease, int limit, CancellationToken cancellationToken)
    {
        var candidates = await database.ReadAsync(async connection => (await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT id FROM webhook_outbox WHERE status = '{OutboundWebhookStatus.Pending}' AND next_attempt_at <= @now " +
            "AND (lease_expires_at IS NULL OR lease_expires_at < @now) ORDER BY next_attempt_at LIMIT @limit",
            new { now, limit }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList(), cancellationToken).ConfigureAwait(false);
        if (candidates.Count == 0)
        {
            return [];
        }
        return await database.WriteAsync(async (connection, transaction) =>
        {
            var claimed = new List<OutboxRow>();
            foreach (var id in candidates)
            {
                if (await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE webhook_outbox SET owner = @owner, lease_expires_at = @lease, attempts = attempts + 1 " +
                    $"WHERE id = @id AND status = '{OutboundWebhookStatus.Pending}' AND (lease_expires_at IS NULL OR lease_expires_at < @now)",
                    new { id, owner, lease, now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 0)
                {
                    continue;
                }
                var row = await connection.QuerySingleAsync<OutboxRow>(new CommandDefinition(
                    $"SELECT {Columns} FROM webhook_outbox WHERE id = @id", new { id }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (row.Attempts <= DeliveryRetries.MaxAttempts)
                {
                    claimed.Add(row);
                    continue;
                }
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE webhook_outbox SET status = @status, attempts = @attempts, last_error = @error, ended_at = @now, owner = NULL, lease_expires_at = NULL WHERE id = @id",
                    new
                    {
                        id,
                        status = OutboundWebhookStatus.Failed,
                        attempts = DeliveryRetries.MaxAttempts,
                        error = DeliveryRetries.GaveUp(DeliveryRetries.MaxAttempts, "cut off when the control plane sending it stopped"),
                        now,
                    }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            return claimed;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The plaintext secret of a claimed row; throws <see cref="KeyEncryptionException"/> when it cannot be decrypted.</summary>
    internal string SecretOf(OutboxRow row) => Encoding.UTF8.GetString(encryption.Decrypt(AssociatedData(row.Id), row.Secret));

    /// <summary>
    /// Records what an attempt came to, if <paramref name="owner"/> still holds the row: delivered, failed, or pending again
    /// at <paramref name="nextAttemptAt"/>. False when the claim was lost (the lease ran out and another sender took it).
    /// </summary>
    internal Task<bool> RecordAsync(string id, string owner, string status, DeliveryAttempt attempt, long now, long? nextAttemptAt, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) => await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE webhook_outbox SET status = @status, last_error = @error, last_http_status = @httpStatus, next_attempt_at = @next, " +
            "delivered_at = @deliveredAt, ended_at = @endedAt, owner = NULL, lease_expires_at = NULL WHERE id = @id AND owner = @owner",
            new
            {
                id,
                owner,
                status,
                error = attempt.Error,
                httpStatus = attempt.HttpStatus,
                next = nextAttemptAt ?? now,
                deliveredAt = attempt.Delivered ? now : (long?)null,
                endedAt = status == OutboundWebhookStatus.Pending ? (long?)null : now,
            }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1, cancellationToken);

    /// <summary>
    /// Gives back an attempt that was stopped before it finished (the process is stopping): due again at once, and not
    /// counted, since its receiver may or may not have seen it (and dedupes by its id if it did).
    /// </summary>
    internal Task ReleaseAsync(string id, string owner, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE webhook_outbox SET attempts = attempts - 1, owner = NULL, lease_expires_at = NULL WHERE id = @id AND owner = @owner",
            new { id, owner }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Frees every claim at start-up on a store this process alone writes: whoever held them was this process before a restart.</summary>
    internal Task ExpireAllLeasesAsync(CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE webhook_outbox SET lease_expires_at = 0 WHERE status = '{OutboundWebhookStatus.Pending}' AND lease_expires_at IS NOT NULL",
            transaction: transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Deletes the messages delivered or given up on before <paramref name="before"/>; returns how many.</summary>
    public Task<int> PruneAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM webhook_outbox WHERE status <> '{OutboundWebhookStatus.Pending}' AND ended_at < @before",
            new { before = before.ToUnixTimeMilliseconds() }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>What a ciphertext is bound to: this outbox row's secret, and nothing else.</summary>
    private static string AssociatedData(string id) => $"webhook_outbox/{id}";

    private static void Validate(OutboundWebhook message)
    {
        if (string.IsNullOrEmpty(message.WorkspaceId) || string.IsNullOrEmpty(message.SourceKind) || string.IsNullOrEmpty(message.SourceId))
        {
            throw new ArgumentException("An outbound webhook names its workspace, source kind and source id.", nameof(message));
        }
        if (OutboundUrl.Validate(message.Url) is { } badUrl)
        {
            throw new ArgumentException(badUrl, nameof(message));
        }
        if (WebhookSecret.Validate(message.Secret) is { } badSecret)
        {
            throw new ArgumentException(badSecret, nameof(message));
        }
        if (Encoding.UTF8.GetByteCount(message.Body) > MaxBodyBytes)
        {
            throw new ArgumentException($"An outbound webhook's body is at most {MaxBodyBytes} bytes.", nameof(message));
        }
        try
        {
            using var _ = JsonDocument.Parse(message.Body);
        }
        catch (JsonException)
        {
            throw new ArgumentException("An outbound webhook's body is JSON.", nameof(message));
        }
    }
}
