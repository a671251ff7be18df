using System.Collections.Concurrent;
using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// The revoked grants whose access tokens may still be unexpired, held in memory so checking a token costs a set lookup.
/// Revocations made by this replica count at once; those of other replicas sharing the store within a second, when
/// the next check after a second re-reads the store (one indexed read of the rows revoked since the last one).
/// </summary>
public sealed class RevokedGrants(Database database, TimeProvider time) : IDisposable
{
    private static readonly TimeSpan SyncInterval = TimeSpan.FromSeconds(1);
    // Re-read a margin before the last read: a revocation committed late with an earlier timestamp is not missed.
    private static readonly TimeSpan Overlap = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, byte> revoked = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim syncing = new(1, 1);
    private long syncedAtTimestamp = long.MinValue;
    private long syncedSince;

    public void Add(string grantId) => revoked[grantId] = 0;

    public void Dispose() => syncing.Dispose();

    public async ValueTask<bool> IsRevokedAsync(string grantId, CancellationToken cancellationToken)
    {
        if (time.GetTimestamp() - Interlocked.Read(ref syncedAtTimestamp) > SyncInterval.TotalSeconds * time.TimestampFrequency)
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
            // Access tokens live an hour: grants revoked before that have no live token left to refuse.
            var since = syncedSince == 0 ? now - (long)TimeSpan.FromHours(2).TotalMilliseconds : syncedSince - (long)Overlap.TotalMilliseconds;
            var ids = await database.ReadAsync(connection => connection.QueryAsync<string>(new CommandDefinition(
                "SELECT id FROM oauth_grants WHERE revoked_at IS NOT NULL AND revoked_at >= @since", new { since }, cancellationToken: cancellationToken)),
                cancellationToken);
            foreach (var id in ids)
            {
                revoked[id] = 0;
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
