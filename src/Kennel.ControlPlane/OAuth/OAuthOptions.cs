using System.Net.Security;

namespace Kennel.ControlPlane.OAuth;

/// <summary>The authorization server's settings (the <c>KENNEL_OAUTH_*</c> variables; the issuer is <c>KENNEL_EXTERNAL_URL</c>).</summary>
public sealed record OAuthOptions
{
    /// <summary>Client registrations each remote address may make in a minute (<c>KENNEL_OAUTH_REGISTRATION_RATE_LIMIT</c>).</summary>
    public int RegistrationsPerMinute { get; init; } = 20;

    /// <summary>Sign-in attempts each remote address may make in a minute (<c>KENNEL_OAUTH_LOGIN_RATE_LIMIT</c>).</summary>
    public int LoginsPerMinute { get; init; } = 30;

    /// <summary>
    /// Whether client ID metadata documents may be fetched from loopback and private addresses
    /// (<c>KENNEL_OAUTH_CIMD_ALLOW_PRIVATE</c>): off, so a client_id URL cannot make Kennel probe its own network.
    /// </summary>
    public bool CimdAllowPrivateAddresses { get; init; }

    /// <summary>Checks the TLS certificate of metadata document hosts; null is the system's trust store (tests trust their own).</summary>
    public RemoteCertificateValidationCallback? CimdCertificateValidation { get; init; }

    /// <summary>
    /// The installation's key-encryption key (<c>KENNEL_OAUTH_KEY_ENCRYPTION_KEY</c>, base64): the AES-256 key that the
    /// signing keys and the workspace secrets are encrypted with at rest (<see cref="Hosting.KeyEncryption"/>). Null: the
    /// data directory's <c>oauth-signing.kek</c>, created at the first start.
    /// </summary>
    public byte[]? KeyEncryptionKey { get; init; }

    public TimeSpan AccessTokenLifetime { get; init; } = TimeSpan.FromHours(1);
    public TimeSpan RefreshTokenLifetime { get; init; } = TimeSpan.FromDays(30);
    public TimeSpan CodeLifetime { get; init; } = TimeSpan.FromMinutes(10);
}
