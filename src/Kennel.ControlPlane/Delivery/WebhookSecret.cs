using System.Security.Cryptography;

namespace Kennel.ControlPlane.Delivery;

/// <summary>Signing secrets in the Standard Webhooks format: <c>whsec_</c> and the base64 of the key's bytes.</summary>
public static class WebhookSecret
{
    public const string Prefix = "whsec_";
    public const int KeyBytes = 32;
    private const int MinKeyBytes = 24;
    private const int MaxKeyBytes = 64;

    /// <summary>A new secret of <see cref="KeyBytes"/> random bytes, for the owner (a cron job) to keep and show once.</summary>
    public static string New() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBytes));

    /// <summary>Null for a usable secret; otherwise what is wrong with it (never the secret).</summary>
    public static string? Validate(string? secret)
    {
        var key = new byte[MaxKeyBytes + 1];
        return secret is not null && secret.StartsWith(Prefix, StringComparison.Ordinal)
            && Convert.TryFromBase64String(secret[Prefix.Length..], key, out var length) && length is >= MinKeyBytes and <= MaxKeyBytes
            ? null
            : $"A signing secret is '{Prefix}' and the base64 of {MinKeyBytes} to {MaxKeyBytes} random bytes.";
    }
}
