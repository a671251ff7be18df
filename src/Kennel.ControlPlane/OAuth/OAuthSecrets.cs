using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// The authorization server's opaque secrets (client secrets, codes, refresh tokens, sign-in sessions, CSRF tokens):
/// 256 random bits in base64url, stored only as a SHA-256 hex digest. That many random bits need no slow hash.
/// </summary>
public static class OAuthSecrets
{
    public static string New() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static bool HashMatches(string secret, string storedHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(secret)), Encoding.ASCII.GetBytes(storedHash));
}
