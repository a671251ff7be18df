using System.Collections.Concurrent;
using Kennel.ControlPlane.Auth;

namespace Kennel.ControlPlane.ApiKeys;

/// <summary>
/// API keys this process has verified against the store lately, so that a busy client (an MCP session makes a request
/// per tool call) is not a store read per request. Only used when this process is the store's only writer (SQLite):
/// then a revocation always passes through <see cref="Forget"/> here, and takes effect at once. With PostgreSQL another
/// replica may revoke a key, so every request is checked against the store. The presented secret is still compared,
/// in constant time, with the stored hash on every request.
/// </summary>
internal sealed class VerifiedKeyCache(TimeProvider time, TimeSpan lifetime)
{
    private const int MaxEntries = 10_000;
    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private long revocations;

    private sealed record Entry(string SecretHash, Caller Caller, long VerifiedAt);

    public bool Enabled => lifetime > TimeSpan.Zero;

    /// <summary>A token to pass to <see cref="Remember"/>: a revocation in between makes that call a no-op.</summary>
    public long Generation => Interlocked.Read(ref revocations);

    public Caller? Find(string keyId, OpaqueToken presented)
    {
        if (!Enabled || !entries.TryGetValue(keyId, out var entry) || time.GetElapsedTime(entry.VerifiedAt) >= lifetime)
        {
            return null;
        }
        return presented.Matches(entry.SecretHash) ? entry.Caller : null;
    }

    /// <summary>Keeps a key the store just vouched for, unless a key was revoked since <paramref name="generation"/>.</summary>
    public void Remember(string keyId, string secretHash, Caller caller, long generation)
    {
        if (!Enabled)
        {
            return;
        }
        if (entries.Count >= MaxEntries)
        {
            entries.Clear();
        }
        entries[keyId] = new Entry(secretHash, caller, time.GetTimestamp());
        if (Generation != generation)
        {
            // A revocation raced this read: the row may be stale, so do not keep it.
            entries.TryRemove(keyId, out _);
        }
    }

    public void Forget(string keyId)
    {
        Interlocked.Increment(ref revocations);
        entries.TryRemove(keyId, out _);
    }
}
