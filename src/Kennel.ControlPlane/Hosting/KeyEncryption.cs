using System.Security.Cryptography;
using System.Text;

namespace Kennel.ControlPlane.Hosting;

/// <summary>
/// Values kept encrypted at rest (the OAuth signing keys, workspace secrets): AES-256-GCM under the installation's
/// key-encryption key, which is kept outside the store, so a copy of the database (a backup, a dump) reveals none of
/// them. Stored as <c>enc:v1:</c> and base64 of nonce, ciphertext and tag. The caller names what the value belongs to as
/// associated data (a key id, a workspace and secret name), so a ciphertext copied into another row does not decrypt.
/// </summary>
public sealed class KeyEncryption(byte[] keyEncryptionKey)
{
    public const string FileName = "oauth-signing.kek";
    public const string Variable = "KENNEL_OAUTH_KEY_ENCRYPTION_KEY";
    public const int KeyBytes = 32;
    private const string Prefix = "enc:v1:";
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    public static bool IsEncrypted(string stored) => stored.StartsWith(Prefix, StringComparison.Ordinal);

    public string Encrypt(string associatedData, ReadOnlySpan<byte> plaintext)
    {
        var box = new byte[NonceBytes + plaintext.Length + TagBytes];
        var nonce = box.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(keyEncryptionKey, TagBytes);
        aes.Encrypt(nonce, plaintext, box.AsSpan(NonceBytes, plaintext.Length), box.AsSpan(NonceBytes + plaintext.Length), Encoding.UTF8.GetBytes(associatedData));
        return Prefix + Convert.ToBase64String(box);
    }

    /// <summary>
    /// The plaintext of a value <see cref="Encrypt"/> stored under the same associated data. Throws
    /// <see cref="KeyEncryptionException"/> when it was encrypted under another key, belongs to another row, or is damaged.
    /// </summary>
    public byte[] Decrypt(string associatedData, string stored)
    {
        var box = IsEncrypted(stored) ? Base64(stored[Prefix.Length..]) : null;
        if (box is null || box.Length < NonceBytes + TagBytes)
        {
            throw new KeyEncryptionException($"The value stored for {associatedData} is not an encrypted value.");
        }
        var plaintext = new byte[box.Length - NonceBytes - TagBytes];
        using var aes = new AesGcm(keyEncryptionKey, TagBytes);
        try
        {
            aes.Decrypt(box.AsSpan(0, NonceBytes), box.AsSpan(NonceBytes, plaintext.Length), box.AsSpan(NonceBytes + plaintext.Length), plaintext,
                Encoding.UTF8.GetBytes(associatedData));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new KeyEncryptionException(
                $"The value stored for {associatedData} cannot be decrypted: {Variable} (or {FileName} in the data directory) is not the key it was " +
                "encrypted with, or the value was copied from another row. Every replica sharing the store needs the same key.");
        }
        return plaintext;
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

    private static byte[]? Base64(string text)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>A stored value that cannot be decrypted: the message says why and which setting to check, never the value.</summary>
public sealed class KeyEncryptionException(string message) : InvalidOperationException(message);
