using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Kennel.ControlPlane.Auth;

/// <summary>
/// A bearer secret of the form <c>{prefix}_{id}_{secret}</c>: API keys (<c>kn</c>), worker credentials (<c>kw</c>) and
/// enrollment tokens (<c>kwt</c>). The id finds the row; only a SHA-256 of the secret is stored, and it is compared in
/// constant time. The secrets carry 200 random bits, so a fast hash is enough (passwords would need a slow one).
/// </summary>
public readonly record struct OpaqueToken(string Prefix, string Id, string Secret)
{
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
    private static readonly System.Buffers.SearchValues<char> AlphabetValues = System.Buffers.SearchValues.Create(Alphabet);
    private const int IdLength = 12;
    private const int SecretLength = 40;

    public string Value => $"{Prefix}_{Id}_{Secret}";

    public string SecretHash => Hash(Secret);

    public static OpaqueToken Create(string prefix) => new(prefix, Random(IdLength), Random(SecretLength));

    public static bool TryParse(string? value, string prefix, out OpaqueToken token)
    {
        token = default;
        if (value is null || value.Length != prefix.Length + 2 + IdLength + SecretLength || !value.StartsWith(prefix + "_", StringComparison.Ordinal))
        {
            return false;
        }
        var id = value.Substring(prefix.Length + 1, IdLength);
        var separator = value[prefix.Length + 1 + IdLength];
        var secret = value[(prefix.Length + 2 + IdLength)..];
        if (separator != '_' || id.AsSpan().IndexOfAnyExcept(AlphabetValues) >= 0 || secret.AsSpan().IndexOfAnyExcept(AlphabetValues) >= 0)
        {
            return false;
        }
        token = new OpaqueToken(prefix, id, secret);
        return true;
    }

    /// <summary>
    /// Whether the secret's hash is <paramref name="storedHash"/>, compared in constant time. Every request with a
    /// credential checks one, so the hash is made on the stack: nothing is allocated.
    /// </summary>
    public bool Matches(string storedHash)
    {
        ArgumentNullException.ThrowIfNull(storedHash);
        Span<byte> secret = stackalloc byte[SecretLength * 3];
        if (!Encoding.UTF8.TryGetBytes(Secret, secret, out var length))
        {
            return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(SecretHash), Encoding.ASCII.GetBytes(storedHash));
        }
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(secret[..length], hash);
        Span<char> hex = stackalloc char[SHA256.HashSizeInBytes * 2];
        Convert.TryToHexStringLower(hash, hex, out _);
        return CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes<char>(hex), MemoryMarshal.AsBytes(storedHash.AsSpan()));
    }

    private static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Random(int length) => RandomNumberGenerator.GetString(Alphabet, length);
}
