using System.Collections.Concurrent;
using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// The revoked grants whose access tokens may still be unexpired, held in memory so checking a token costs a set lookup.
/// Revocations made by this replica count at once; those of other replicas sharing the store within a second, when
/// the next check after a second re-reads the store (one indexed read of the rows revoked since the last one).
/// A grant revoked longer ago than an access token lives (plus a margin for clocks) has no live token left, and is
/// dropped from the set at the next re-read: the set holds an hour's revocations, not every one since the start.
/// </summary>
public sealed class RevokedGrants(Database database, OAuthOptions options, TimeProvider time) : IDisposable
{
    private static readonly TimeSpan SyncInterval = TimeSpan.FromSeconds(1);
    // Re-read a margin before the last read: a revocation committed late with an earlier timestamp is not missed.
    private static readonly TimeSpan Overlap = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ClockMargin = TimeSpan.FromMinutes(5);
    // Grant id → when it was revoked (Unix ms).
    private readonly ConcurrentDictionary<string, long> revoked = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim syncing = new(1, 1);
    private long syncedAtTimestamp = long.MinValue;
    private long syncedSince;

    /// <summary>How many revoked grants are held (for tests).</summary>
    public int Count => revoked.Count;

    public void Add(string grantId) => revoked[grantId] = time.GetUtcNow().ToUnixTimeMilliseconds();

    private long Horizon => (long)(options.AccessTokenLifetime + ClockMargin).TotalMilliseconds;

    public void Dispose() => syncing.Dispose();

    public async ValueTask<bool> IsRevokedAsync(string grantId, CancellationToken cancellationToken)
    {
        // Never synced yet is due at once (subtracting long.MinValue would overflow into "not due").
        var syncedAt = Interlocked.Read(ref syncedAtTimestamp);
        if (syncedAt == long.MinValue || time.GetTimestamp() - syncedAt > SyncInterval.TotalSeconds * time.TimestampFrequency)
        {
            await SyncAsync(cancellationToken);
        }
        return revoked.ContainsKey(grantId);
    }

    private async Task SyncAsync(CancellationToken cancellationToken)
    {
        // One caller reads; the others use the set as it is (at most a second old) rather than queue behind it.
        var first = Interlocked.Read(ref syncedAtTimestamp) == long.MinValue;
        if (!first && !await syncing.WaitAsync(0, cancellationToken))
        {
            return;
        }
        if (first)
        {
            await syncing.WaitAsync(cancellationToken);
        }
        try
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            // Grants revoked before the horizon have no live token left to refuse.
            var since = syncedSince == 0 ? now - Horizon : syncedSince - (long)Overlap.TotalMilliseconds;
            var rows = await database.ReadAsync(connection => connection.QueryAsync<(string Id, long RevokedAt)>(new CommandDefinition(
                "SELECT id, revoked_at FROM oauth_grants WHERE revoked_at IS NOT NULL AND revoked_at >= @since", new { since }, cancellationToken: cancellationToken)),
                cancellationToken);
            foreach (var (id, revokedAt) in rows)
            {
                revoked[id] = revokedAt;
            }
            foreach (var (id, revokedAt) in revoked)
            {
                if (revokedAt < now - Horizon)
                {
                    revoked.TryRemove(new KeyValuePair<string, long>(id, revokedAt));
                }
            }
            syncedSince = now;
            Interlocked.Exchange(ref syncedAtTimestamp, time.GetTimestamp());
        }
        finally
        {
            syncing.Release();
        }
    }
}
