using System.Buffers.Text;
using System.Security.Cryptography;
using Dapper;
using Kennel.Contracts.OAuth;
using Kennel.ControlPlane.Hosting;
using Kennel.Store;
using Microsoft.IdentityModel.Tokens;
using JsonWebKey = Kennel.Contracts.OAuth.JsonWebKey;
using JsonWebKeySet = Kennel.Contracts.OAuth.JsonWebKeySet;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// The ES256 keys that sign access tokens, kept in the store so every replica signs and verifies with the same ones.
/// The newest unretired key signs. <see cref="RotateAsync"/> adds a key and retires the others, which stay published in
/// the JWKS (and accepted) until every token they signed has expired. Public keys are cached in memory: a token's
/// verification costs one signature check and no store read. Private keys are stored encrypted (<see cref="KeyEncryption"/>,
/// the key id as associated data); rows written before that are plain base64 PKCS#8, read as such and encrypted at the next start.
/// </summary>
public sealed class SigningKeys(Database database, OAuthOptions options, KeyEncryption encryption, TimeProvider time) : IDisposable
{
    private static readonly TimeSpan ReloadInterval = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim loading = new(1, 1);
    // This instance's own cache of signature providers: the library's shared default would keep one made for a key
    // this instance has disposed, and hand it to another instance (a restarted server in one process) with the same key.
    // Made at the first key load, not at construction, so a control plane that has issued no token yet has not loaded
    // the token libraries (about 0.6 MB resident at idle).
    private InMemoryCryptoProviderCache? providers;
    private volatile KeyRing? ring;
    private long lastLoadedAt;

    public sealed record SigningKey(string Id, ECDsaSecurityKey SecurityKey, long CreatedAt, long? RetiredAt)
    {
        public ECDsa Key => SecurityKey.ECDsa;

        public SigningCredentials Credentials { get; } = new(SecurityKey, SecurityAlgorithms.EcdsaSha256);
    }

    private sealed record KeyRing(SigningKey Current, IReadOnlyDictionary<string, SigningKey> ById);

    public async ValueTask<SigningKey> CurrentAsync(CancellationToken cancellationToken) => (await RingAsync(cancellationToken)).Current;

    /// <summary>The key with this id, reloading from the store (at most every 10 s) when another replica may have rotated.</summary>
    public async ValueTask<SigningKey?> FindAsync(string kid, CancellationToken cancellationToken)
    {
        var keys = await RingAsync(cancellationToken);
        if (keys.ById.TryGetValue(kid, out var key))
        {
            return key;
        }
        if (time.GetTimestamp() - Interlocked.Read(ref lastLoadedAt) < ReloadInterval.TotalSeconds * time.TimestampFrequency)
        {
            return null;
        }
        keys = await LoadAsync(cancellationToken);
        return keys.ById.GetValueOrDefault(kid);
    }

    public async Task<JsonWebKeySet> JwksAsync(CancellationToken cancellationToken)
    {
        var keys = await RingAsync(cancellationToken);
        return new JsonWebKeySet([.. keys.ById.Values.OrderByDescending(k => k.CreatedAt).Select(ToJwk)]);
    }

    /// <summary>Adds a new signing key and retires the others; returns the new key's id.</summary>
    public async Task<string> RotateAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var id = SortableId.New("key", time);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE oauth_signing_keys SET retired_at = @now WHERE retired_at IS NULL", new { now }, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO oauth_signing_keys (id, private_key, created_at) VALUES (@id, @privateKey, @now)",
                new { id, privateKey = encryption.Encrypt(id, key.ExportPkcs8PrivateKey()), now }, transaction, cancellationToken: cancellationToken));
        }, cancellationToken);
        await LoadAsync(cancellationToken);
        return id;
    }

    /// <summary>Encrypts the rows stored in plain before keys were encrypted at rest (at start; a no-op once done).</summary>
    public async Task EncryptPlainKeysAsync(CancellationToken cancellationToken)
    {
        var rows = await database.ReadAsync(connection => connection.QueryAsync<KeyRow>(new CommandDefinition(
            "SELECT id, private_key FROM oauth_signing_keys WHERE private_key NOT LIKE 'enc:v1:%'", cancellationToken: cancellationToken)), cancellationToken);
        foreach (var row in rows)
        {
            var encrypted = encryption.Encrypt(row.Id, PrivateKey(row));
            await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
                "UPDATE oauth_signing_keys SET private_key = @encrypted WHERE id = @Id AND private_key = @PrivateKey",
                new { encrypted, row.Id, row.PrivateKey }, transaction, cancellationToken: cancellationToken)), cancellationToken);
        }
    }

    public void Dispose()
    {
        loading.Dispose();
        providers?.Dispose();
        foreach (var key in ring?.ById.Values ?? [])
        {
            key.Key.Dispose();
        }
    }

    private async ValueTask<KeyRing> RingAsync(CancellationToken cancellationToken) => ring ?? await LoadAsync(cancellationToken);

    private async Task<KeyRing> LoadAsync(CancellationToken cancellationToken)
    {
        await loading.WaitAsync(cancellationToken);
        try
        {
            var rows = await ReadAsync(cancellationToken);
            if (!rows.Any(r => r.RetiredAt is null))
            {
                // The first start (or every key retired by hand): make one. Two replicas racing both add one; the newer signs.
                await database.WriteAsync((connection, transaction) =>
                {
                    using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                    var id = SortableId.New("key", time);
                    return connection.ExecuteAsync(new CommandDefinition(
                        "INSERT INTO oauth_signing_keys (id, private_key, created_at) VALUES (@id, @privateKey, @now)",
                        new { id, privateKey = encryption.Encrypt(id, key.ExportPkcs8PrivateKey()), now = time.GetUtcNow().ToUnixTimeMilliseconds() },
                        transaction, cancellationToken: cancellationToken));
                }, cancellationToken);
                rows = await ReadAsync(cancellationToken);
            }
            var previous = ring?.ById ?? new Dictionary<string, SigningKey>();
            var keys = rows.ToDictionary(r => r.Id, r => previous.TryGetValue(r.Id, out var known) && known.RetiredAt == r.RetiredAt
                ? known
                : new SigningKey(r.Id, Import(r.Id, PrivateKey(r)), r.CreatedAt, r.RetiredAt), StringComparer.Ordinal);
            var current = keys.Values.Where(k => k.RetiredAt is null).MaxBy(k => k.CreatedAt)!;
            ring = new KeyRing(current, keys);
            Interlocked.Exchange(ref lastLoadedAt, time.GetTimestamp());
            return ring;
        }
        finally
        {
            loading.Release();
        }
    }

    /// <summary>Unretired keys, and retired ones whose tokens may still be unexpired.</summary>
    private async Task<List<KeyRow>> ReadAsync(CancellationToken cancellationToken)
    {
        var since = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)(options.AccessTokenLifetime + TimeSpan.FromMinutes(5)).TotalMilliseconds;
        return [.. await database.ReadAsync(connection => connection.QueryAsync<KeyRow>(new CommandDefinition(
            "SELECT id, private_key, created_at, retired_at FROM oauth_signing_keys WHERE retired_at IS NULL OR retired_at > @since",
            new { since }, cancellationToken: cancellationToken)), cancellationToken)];
    }

    /// <summary>The PKCS#8 private key of a stored row, encrypted or (from before encryption) plain.</summary>
    private byte[] PrivateKey(KeyRow row) =>
        KeyEncryption.IsEncrypted(row.PrivateKey) ? encryption.Decrypt(row.Id, row.PrivateKey) : Convert.FromBase64String(row.PrivateKey);

    private ECDsaSecurityKey Import(string id, byte[] privateKey)
    {
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(privateKey, out _);
        return new ECDsaSecurityKey(key) { KeyId = id, CryptoProviderFactory = new CryptoProviderFactory(providers ??= new()) };
    }

    private static JsonWebKey ToJwk(SigningKey key)
    {
        var point = key.Key.ExportParameters(includePrivateParameters: false).Q;
        return new JsonWebKey
        {
            Kty = "EC",
            Crv = "P-256",
            X = Base64Url.EncodeToString(point.X),
            Y = Base64Url.EncodeToString(point.Y),
            Kid = key.Id,
            Use = "sig",
            Alg = SecurityAlgorithms.EcdsaSha256,
        };
    }

    private sealed class KeyRow
    {
        public string Id { get; set; } = "";
        public string PrivateKey { get; set; } = "";
        public long CreatedAt { get; set; }
        public long? RetiredAt { get; set; }
    }
}
