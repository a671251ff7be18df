using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kennel.Contracts.OAuth;
using Kennel.ControlPlane.Auth;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// Access tokens: compact JWTs (RFC 9068 shape) signed with ES256. Verification accepts only ES256 with a key of
/// <see cref="SigningKeys"/>, then checks the issuer, the audience (the endpoint being called: no token passthrough),
/// the expiry and the grant's revocation.
/// </summary>
public sealed class AccessTokens(SigningKeys keys, RevokedGrants revoked, OAuthIssuer issuer, OAuthOptions options, TimeProvider time)
{
    public const string Algorithm = "ES256";

    /// <summary>Whether a bearer token has a JWT's shape (three base64url parts); the handler then treats it as one.</summary>
    public static bool LooksLikeJwt(string token) => token.StartsWith("eyJ", StringComparison.Ordinal) && token.Count(c => c == '.') == 2;

    public async Task<string> IssueAsync(GrantRow grant, CancellationToken cancellationToken)
    {
        var key = await keys.CurrentAsync(cancellationToken);
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var header = JsonSerializer.SerializeToUtf8Bytes(new JwtHeader { Alg = Algorithm, Typ = "at+jwt", Kid = key.Id }, OAuthJson.Default.JwtHeader);
        var claims = JsonSerializer.SerializeToUtf8Bytes(new AccessTokenClaims
        {
            Iss = issuer.Url,
            Sub = grant.UserId,
            Aud = grant.Resource,
            Scope = grant.Scope,
            ClientId = grant.ClientId,
            Jti = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            Exp = now + (long)options.AccessTokenLifetime.TotalSeconds,
            Iat = now,
            WorkspaceId = grant.WorkspaceId,
            Workspace = grant.WorkspaceName,
            GrantId = grant.Id,
        }, OAuthJson.Default.AccessTokenClaims);
        var signingInput = $"{Base64Url.EncodeToString(header)}.{Base64Url.EncodeToString(claims)}";
        var signature = key.Key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return $"{signingInput}.{Base64Url.EncodeToString(signature)}";
    }

    /// <summary>
    /// The caller a token proves for <paramref name="audience"/> (null: any audience, for revocation), or why not. Every
    /// failure is reported the same way to the client (invalid_token); the reason is for tests and logs.
    /// </summary>
    public async Task<(Caller? Caller, AccessTokenClaims? Claims, string? Problem)> ValidateAsync(string token, string? audience, CancellationToken cancellationToken)
    {
        var claims = await VerifiedClaimsAsync(token, cancellationToken);
        if (claims is null)
        {
            return (null, null, "The token is malformed or its signature is not valid.");
        }
        if (!string.Equals(claims.Iss, issuer.Url, StringComparison.Ordinal))
        {
            return (null, claims, "The token was issued by another server.");
        }
        if (claims.Exp <= time.GetUtcNow().ToUnixTimeSeconds())
        {
            return (null, claims, "The token has expired.");
        }
        if (audience is not null && !string.Equals(claims.Aud, audience, StringComparison.Ordinal))
        {
            return (null, claims, $"The token is for {claims.Aud}, not {audience}.");
        }
        if (await revoked.IsRevokedAsync(claims.GrantId, cancellationToken))
        {
            return (null, claims, "The token has been revoked.");
        }
        var scopes = claims.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        return (new Caller(claims.WorkspaceId, claims.Workspace, scopes, claims.GrantId) { UserId = claims.Sub, Audience = claims.Aud }, claims, null);
    }

    private async ValueTask<AccessTokenClaims?> VerifiedClaimsAsync(string token, CancellationToken cancellationToken)
    {
        var parts = token.Split('.');
        if (parts.Length != 3 || parts[2].Length != 86)
        {
            return null;
        }
        try
        {
            var header = JsonSerializer.Deserialize(Base64Url.DecodeFromChars(parts[0]), OAuthJson.Default.JwtHeader);
            // Only ES256: "none" and every other algorithm are refused before any key is looked at.
            if (header is not { Alg: Algorithm, Kid: { } kid } || await keys.FindAsync(kid, cancellationToken) is not { } key)
            {
                return null;
            }
            var signingInput = Encoding.ASCII.GetBytes(token, 0, parts[0].Length + 1 + parts[1].Length);
            if (!key.Key.VerifyData(signingInput, Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                return null;
            }
            return JsonSerializer.Deserialize(Base64Url.DecodeFromChars(parts[1]), OAuthJson.Default.AccessTokenClaims);
        }
        catch (Exception malformed) when (malformed is FormatException or JsonException)
        {
            return null;
        }
    }
}
