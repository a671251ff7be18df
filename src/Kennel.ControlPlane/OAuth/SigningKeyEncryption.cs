using System.Security.Cryptography;
using System.Text;
using Kennel.ControlPlane.Hosting;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// The signing keys' private halves at rest: AES-256-GCM under a key-encryption key kept outside the store, so a copy of
/// the database (a backup, a dump) cannot sign tokens. Stored as <c>enc:v1:</c> and base64 of nonce, ciphertext and tag,
/// with the key id as associated data (a row's ciphertext cannot be moved to another id). Rows written before this are
/// plain base64 PKCS#8: they are read as such, and encrypted at the next start.
/// </summary>
public sealed class SigningKeyEncryption(byte[] keyEncryptionKey)
{
    public const string FileName = "oauth-signing.kek";
    public const string Variable = "KENNEL_OAUTH_KEY_ENCRYPTION_KEY";
    public const int KeyBytes = 32;
    private const string Prefix = "enc:v1:";
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    public static bool IsEncrypted(string stored) => stored.StartsWith(Prefix, StringComparison.Ordinal);

    public string Encrypt(string keyId, byte[] privateKey)
    {
        var box = new byte[NonceBytes + privateKey.Length + TagBytes];
        var nonce = box.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(keyEncryptionKey, TagBytes);
        aes.Encrypt(nonce, privateKey, box.AsSpan(NonceBytes, privateKey.Length), box.AsSpan(NonceBytes + privateKey.Length), Encoding.UTF8.GetBytes(keyId));
        return Prefix + Convert.ToBase64String(box);
    }

    /// <summary>The PKCS#8 private key of a stored row, encrypted or (from before encryption) plain.</summary>
    public byte[] Decrypt(string keyId, string stored)
    {
        if (!IsEncrypted(stored))
        {
            return Convert.FromBase64String(stored);
        }
        var box = Convert.FromBase64String(stored[Prefix.Length..]);
        var privateKey = new byte[box.Length - NonceBytes - TagBytes];
        using var aes = new AesGcm(keyEncryptionKey, TagBytes);
        try
        {
            aes.Decrypt(box.AsSpan(0, NonceBytes), box.AsSpan(NonceBytes, privateKey.Length), box.AsSpan(NonceBytes + privateKey.Length), privateKey,
                Encoding.UTF8.GetBytes(keyId));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new InvalidOperationException(
                $"The OAuth signing key {keyId} cannot be decrypted: {Variable} (or {FileName} in the data directory) is not the key it was encrypted with. " +
                "Every replica sharing the store needs the same one.");
        }
        return privateKey;
    }

    /// <summary>The configured key-encryption key, or the data directory's, created (mode 0600) at the first start.</summary>
    public static byte[] Load(byte[]? configured, string dataDir)
    {
        if (configured is not null)
        {
            return configured;
        }
        var path = Path.Combine(dataDir, FileName);
        if (File.Exists(path))
        {
            return Parse(File.ReadAllText(path).Trim()) ?? throw new SettingsException($"{path} must hold {KeyBytes} bytes in base64; restore it or set {Variable}.");
        }
        var key = RandomNumberGenerator.GetBytes(KeyBytes);
        using (var stream = SecretFile.Create(path))
        using (var writer = new StreamWriter(stream))
        {
            writer.WriteLine(Convert.ToBase64String(key));
        }
        return key;
    }

    /// <summary>A base64 key of <see cref="KeyBytes"/> bytes, or null.</summary>
    public static byte[]? Parse(string value)
    {
        var bytes = new byte[KeyBytes + 1];
        return Convert.TryFromBase64String(value, bytes, out var length) && length == KeyBytes ? bytes[..KeyBytes] : null;
    }
}
