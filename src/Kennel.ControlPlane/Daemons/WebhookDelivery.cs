using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Kennel.ControlPlane.Daemons;

/// <summary>
/// What identifies a verified webhook request, so that the same request sent again is refused as a replay: the keys
/// it is remembered by (SHA-256 hashes, of fixed size whatever was sent) and until when.
/// </summary>
/// <remarks>
/// GitHub's signature covers the body only, so anyone holding a captured delivery can change or drop its
/// <c>X-GitHub-Delivery</c> header and the signature still verifies. The signed body is therefore a key of its own; the
/// delivery id is one too, so a redelivery is still recognised after the secret was rotated and GitHub signs it anew.
/// Slack signs its timestamp with the body, and its requests are accepted for 5 minutes either side of that timestamp,
/// so what it signed is remembered until then.
/// </remarks>
public sealed record WebhookDelivery(IReadOnlyList<string> Keys, DateTimeOffset RememberUntil)
{
    public const string GitHubDeliveryHeader = "X-GitHub-Delivery";

    /// <summary>
    /// The delivery a request is, once its signature has verified; null for a daemon with signature <c>none</c> (anyone
    /// may start it anyway), and for <c>hmac-sha256</c> when <paramref name="window"/> is zero.
    /// </summary>
    public static WebhookDelivery? Of(string signature, Func<string, string?> headers, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan window)
    {
        if (signature == WebhookSignature.HmacSha256 && window > TimeSpan.Zero)
        {
            List<string> keys = [Key("body", body)];
            if (headers(GitHubDeliveryHeader) is { Length: > 0 } id)
            {
                keys.Add(Key("github-delivery", Encoding.UTF8.GetBytes(id)));
            }
            return new WebhookDelivery(keys, now + window);
        }
        if (signature == WebhookSignature.SlackV0)
        {
            // The signature has verified, so the timestamp is a number within the window of now.
            var timestamp = headers(WebhookSignature.SlackTimestampHeader)!;
            var sentAt = DateTimeOffset.FromUnixTimeSeconds(long.Parse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture));
            return new WebhookDelivery([Key("slack", WebhookSignature.SlackBaseString(timestamp, body))], sentAt + WebhookSignature.SlackWindow);
        }
        return null;
    }

    private static string Key(string kind, ReadOnlySpan<byte> value) => $"{kind}:{Convert.ToHexStringLower(SHA256.HashData(value))}";
}
