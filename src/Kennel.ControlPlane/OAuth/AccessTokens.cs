using System.Buffers;
using System.Security.Cryptography;
using Kennel.ControlPlane.Auth;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// Access tokens: JWTs of RFC 9068's shape (<c>typ: at+jwt</c>) signed with ES256, written and checked by
/// Microsoft.IdentityModel's <see cref="JsonWebTokenHandler"/>. A token is accepted only when signed with ES256 by the
/// key of <see cref="SigningKeys"/> its <c>kid</c> names, with its issuer, its audience (the endpoint being called: no
/// token passthrough) and its lifetime right on Kennel's clock, every claim Kennel issues present, and its grant not
/// revoked.
/// </summary>
public sealed class AccessTokens(SigningKeys keys, RevokedGrants revoked, OAuthIssuer issuer, OAuthOptions options, TimeProvider time)
{
    private const string TokenType = "at+jwt";
    private const string ScopeClaim = "scope";
    private const string ClientIdClaim = "client_id";
    private const string WorkspaceIdClaim = "workspace_id";
    private const string WorkspaceClaim = "workspace";
    private const string GrantIdClaim = "grant_id";
    private static readonly string[] Algorithms = [SecurityAlgorithms.EcdsaSha256];
    private static readonly string[] TokenTypes = [TokenType];
    private static readonly SearchValues<char> Base64UrlOrDot = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");

    // Kennel writes exp and iat itself, and no nbf: a replica whose clock is a little behind must not refuse a fresh token.
    // Made at the first token, so a server that only ever sees API keys never loads the token libraries.
    private JsonWebTokenHandler? handler;

    private JsonWebTokenHandler Handler => LazyInitializer.EnsureInitialized(ref handler, () => new() { SetDefaultTimesOnTokenCreation = false });

    /// <summary>
    /// Whether a bearer token has a JWT's shape (three unpadded base64url parts); the handler then treats it as one. The
    /// handler would also read padded parts, so a token that differs from a real one only by padding is refused here.
    /// </summary>
    public static bool LooksLikeJwt(string token) =>
        token.StartsWith("eyJ", StringComparison.Ordinal) && token.Count(c => c == '.') == 2 && !token.AsSpan().ContainsAnyExcept(Base64UrlOrDot);

    public async Task<string> IssueAsync(GrantRow grant, CancellationToken cancellationToken)
    {
        var key = await keys.CurrentAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = TokenType,
            Issuer = issuer.Url,
            Audience = grant.Resource,
            IssuedAt = now,
            Expires = now + options.AccessTokenLifetime,
            SigningCredentials = key.Credentials,
            Claims = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                [JwtRegisteredClaimNames.Sub] = grant.UserId,
                [ScopeClaim] = grant.Scope,
                [ClientIdClaim] = grant.ClientId,
                [JwtRegisteredClaimNames.Jti] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
                [WorkspaceIdClaim] = grant.WorkspaceId,
                [WorkspaceClaim] = grant.WorkspaceName,
                [GrantIdClaim] = grant.Id,
            },
        });
    }

    /// <summary>
    /// The caller a token proves on the endpoint whose URL is <paramref name="audience"/>, or why not. Every failure is
    /// reported the same way to the client (invalid_token); the reason is for logs.
    /// </summary>
    public async Task<(Caller? Caller, string? Problem)> ValidateAsync(string token, string audience, CancellationToken cancellationToken)
    {
        var (jwt, result) = await CheckAsync(token, audience, cancellationToken);
        if (result is not { IsValid: true })
        {
            return (null, Problem(result?.Exception, jwt, audience));
        }
        if (!jwt!.TryGetPayloadValue<string>(JwtRegisteredClaimNames.Sub, out var userId)
            || !jwt.TryGetPayloadValue<string>(ScopeClaim, out var scope)
            || !jwt.TryGetPayloadValue<string>(WorkspaceIdClaim, out var workspaceId)
            || !jwt.TryGetPayloadValue<string>(WorkspaceClaim, out var workspace)
            || !jwt.TryGetPayloadValue<string>(GrantIdClaim, out var grantId)
            || !jwt.TryGetPayloadValue<string>(JwtRegisteredClaimNames.Aud, out var tokenAudience))
        {
            // An audience list is refused here too: Kennel issues a token for one endpoint only.
            return (null, "The token lacks a claim that Kennel's access tokens carry.");
        }
        if (await revoked.IsRevokedAsync(grantId, cancellationToken))
        {
            return (null, "The token has been revoked.");
        }
        var scopes = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        return (new Caller(workspaceId, workspace, scopes, grantId) { UserId = userId, Audience = tokenAudience }, null);
    }

    /// <summary>
    /// For revocation (RFC 7009): the client and grant of a token this server signed, whatever its audience, issuer or
    /// lifetime (revoking an expired token's grant still ends its refresh tokens); null when the signature does not check out.
    /// </summary>
    public async Task<(string ClientId, string GrantId)?> SignedGrantAsync(string token, CancellationToken cancellationToken)
    {
        var (jwt, result) = await CheckAsync(token, audience: null, cancellationToken);
        return result is { IsValid: true }
            && jwt!.TryGetPayloadValue<string>(ClientIdClaim, out var clientId)
            && jwt.TryGetPayloadValue<string>(GrantIdClaim, out var grantId)
            ? (clientId, grantId)
            : null;
    }

    /// <summary>
    /// Reads the token and finds the key its <c>kid</c> names (which may reload the keys, when another replica rotated),
    /// then has the handler check it against that key only: the signature, the algorithm and the type, and, given an
    /// audience, the issuer, the audience and the lifetime. The result is null when the token is malformed or its key unknown.
    /// </summary>
    private async Task<(JsonWebToken? Token, TokenValidationResult? Result)> CheckAsync(string token, string? audience, CancellationToken cancellationToken)
    {
        JsonWebToken jwt;
        try
        {
            jwt = Handler.ReadJsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return (null, null);
        }
        if (string.IsNullOrEmpty(jwt.Kid) || await keys.FindAsync(jwt.Kid, cancellationToken) is not { } key)
        {
            return (jwt, null);
        }
        var checks = audience is not null;
        return (jwt, await Handler.ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            IssuerSigningKey = key.SecurityKey,
            TryAllIssuerSigningKeys = false,
            ValidAlgorithms = Algorithms,
            ValidTypes = TokenTypes,
            ValidIssuer = issuer.Url,
            ValidateIssuer = checks,
            ValidAudience = audience,
            ValidateAudience = checks,
            ValidateLifetime = checks,
            LifetimeValidator = IsCurrent,
        }));
    }

    /// <summary>
    /// The lifetime on Kennel's clock (tests move it; the handler's own check reads the system clock, its TimeProvider
    /// setting not being public): <c>exp</c> is required and still ahead, an <c>nbf</c> is passed; no clock skew.
    /// </summary>
    private bool IsCurrent(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return expires > now && !(notBefore > now);
    }

    private static string Problem(Exception? failure, JsonWebToken? jwt, string audience) => failure switch
    {
        SecurityTokenInvalidLifetimeException => "The token has expired, has no expiry, or is not valid yet.",
        SecurityTokenInvalidIssuerException => "The token was issued by another server.",
        SecurityTokenInvalidAudienceException => $"The token is for {string.Join(' ', jwt?.Audiences ?? [])}, not {audience}.",
        SecurityTokenInvalidTypeException => "The token is not an access token (typ at+jwt).",
        _ => "The token is malformed, or its signature is not valid, or no key of this server signed it.",
    };
}
