using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Kennel.ControlPlane.Daemons;

/// <summary>
/// Checks a webhook's signature over its raw body, comparing in constant time. GitHub (<c>hmac-sha256</c>) sends
/// <c>X-Hub-Signature-256: sha256=HEX</c>, the HMAC-SHA256 of the body. Slack (<c>slack-v0</c>) sends
/// <c>X-Slack-Signature: v0=HEX</c>, the HMAC-SHA256 of <c>v0:{X-Slack-Request-Timestamp}:{body}</c>, and a timestamp
/// more than <see cref="SlackWindow"/> away from now is refused as a possible replay.
/// </summary>
public static class WebhookSignature
{
    public const string HmacSha256 = "hmac-sha256";
    public const string SlackV0 = "slack-v0";
    public const string None = "none";

    public const string SlackTimestampHeader = "X-Slack-Request-Timestamp";

    public static readonly TimeSpan SlackWindow = TimeSpan.FromMinutes(5);

    public static string DefaultHeader(string signature) => signature == SlackV0 ? "X-Slack-Signature" : "X-Hub-Signature-256";

    /// <summary>
    /// Null when the request is authentic; otherwise why not (never the expected value), for the server's log: the caller
    /// learns no more than it would from a URL with no daemon behind it.
    /// </summary>
    public static string? Check(
        string signature, string? secret, string? header, Func<string, string?> headers, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        if (signature == None)
        {
            return null;
        }
        if (secret is null || header is null)
        {
            return "The daemon has no webhook secret.";
        }
        var key = Encoding.UTF8.GetBytes(secret);
        var sent = headers(header);
        if (signature == HmacSha256)
        {
            return Matches(sent, "sha256=", HMACSHA256.HashData(key, body))
                ? null
                : $"The {header} header is missing or is not sha256= and the HMAC-SHA256 of the body under the daemon's secret.";
        }
        // The MAC is computed before the timestamp is judged, so a refusal costs the same whichever check fails.
        var timestamp = headers(SlackTimestampHeader);
        var authentic = Matches(sent, "v0=", HMACSHA256.HashData(key, SlackBaseString(timestamp, body)));
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return $"The {SlackTimestampHeader} header is missing or not a Unix time in seconds.";
        }
        if ((now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > SlackWindow)
        {
            return $"The {SlackTimestampHeader} is more than {SlackWindow.TotalMinutes} minutes from now; a stale request may be a replay.";
        }
        return authentic
            ? null
            : $"The {header} header is missing or is not v0= and the HMAC-SHA256 of v0:timestamp:body under the daemon's signing secret.";
    }

    /// <summary>What Slack signs: <c>v0:{timestamp}:{body}</c>.</summary>
    public static byte[] SlackBaseString(string? timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"v0:{timestamp}:");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return signed;
    }

    /// <summary>Computes a signature header value, for clients and tests that sign what they send.</summary>
    public static string Sign(string signature, string secret, ReadOnlySpan<byte> body, long? timestamp = null)
    {
        var key = Encoding.UTF8.GetBytes(secret);
        if (signature == HmacSha256)
        {
            return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(key, body));
        }
        return "v0=" + Convert.ToHexStringLower(HMACSHA256.HashData(key, SlackBaseString(timestamp?.ToString(CultureInfo.InvariantCulture), body)));
    }

    private static bool Matches(string? sent, string prefix, byte[] expected)
    {
        if (sent is null || !sent.StartsWith(prefix, StringComparison.Ordinal) || sent.Length != prefix.Length + expected.Length * 2)
        {
            return false;
        }
        Span<byte> given = stackalloc byte[expected.Length];
        return Convert.FromHexString(sent.AsSpan(prefix.Length), given, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == expected.Length
            && CryptographicOperations.FixedTimeEquals(given, expected);
    }
}
