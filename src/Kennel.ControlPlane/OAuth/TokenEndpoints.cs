using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Kennel.Contracts;
using Kennel.Contracts.OAuth;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// <c>POST /oauth/register</c> (RFC 7591), <c>POST /oauth/token</c> (authorization_code with PKCE, refresh_token with
/// rotation) and <c>POST /oauth/revoke</c> (RFC 7009). Errors are RFC 6749 JSON: <c>{"error", "error_description"}</c>.
/// </summary>
public static class TokenEndpoints
{
    public static void MapTokenEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/oauth/register", RegisterAsync);
        // OAuth clients read errors as RFC 6749 JSON, including a request refused at the edge (a NUL, an over-long field).
        var asOAuthError = new ProblemFormat(problem =>
            Error(problem.Status >= StatusCodes.Status500InternalServerError ? "server_error" : "invalid_request", problem.Detail ?? problem.Title, problem.Status));
        app.MapPost("/oauth/token", (HttpContext context, TokenIssuer tokens) => tokens.TokenAsync(context)).DisableAntiforgery().WithMetadata(asOAuthError);
        app.MapPost("/oauth/revoke", (HttpContext context, TokenIssuer tokens) => tokens.RevokeAsync(context)).DisableAntiforgery().WithMetadata(asOAuthError);
    }

    public static IResult Error(string error, string description, int status = StatusCodes.Status400BadRequest) =>
        new NoStore(Results.Json(new OAuthError(error, description), OAuthJson.Default.OAuthError, statusCode: status)) { Error = error };

    /// <summary>The OAuth error code of a result of <see cref="Error"/>; null for any other result.</summary>
    public static string? ErrorOf(IResult result) => (result as NoStore)?.Error;

    public static IResult Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, int status = StatusCodes.Status200OK) =>
        new NoStore(Results.Json(value, type, statusCode: status));

    private static async Task<IResult> RegisterAsync(HttpContext context, ClientRegistry clients, RegistrationLimiter limiter)
    {
        using var lease = limiter.Limiter.AttemptAcquire(AuthorizeFlow.PartitionKey(context.Connection.RemoteIpAddress));
        if (!lease.IsAcquired)
        {
            return Error("too_many_requests", "Too many client registrations from this address; retry in a minute.", StatusCodes.Status429TooManyRequests);
        }
        if (!context.Request.HasJsonContentType())
        {
            return Error("invalid_client_metadata", "Send the client metadata as application/json.");
        }
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var json = body.GetBuffer().AsSpan(0, (int)body.Length);
        if (JsonText.Find(json) is { } bad)
        {
            return Error("invalid_client_metadata", bad.Describe(bad.Field));
        }
        if (ClientRegistry.ParseMetadata(json) is not { } metadata)
        {
            return Error("invalid_client_metadata", "The body is not a JSON object of client metadata.");
        }
        try
        {
            var registration = await clients.RegisterAsync(metadata, context.RequestAborted);
            return Json(registration, OAuthJson.Default.ClientRegistration, StatusCodes.Status201Created);
        }
        catch (ClientMetadataException invalid)
        {
            return Error(invalid.Error, invalid.Message);
        }
    }

    /// <summary>Token responses carry secrets: never cached (RFC 6749 section 5.1).</summary>
    private sealed class NoStore(IResult inner) : IResult
    {
        public string? Error { get; init; }

        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.Pragma = "no-cache";
            return inner.ExecuteAsync(context);
        }
    }
}

/// <summary>The per-address limit on registrations (<see cref="OAuthOptions.RegistrationsPerMinute"/>).</summary>
public sealed class RegistrationLimiter(OAuthOptions options) : IDisposable
{
    public PartitionedRateLimiter<string> Limiter { get; } = AuthorizeFlow.PerAddress(options.RegistrationsPerMinute);

    public void Dispose() => Limiter.Dispose();
}

/// <summary>Redeems codes and refresh tokens for access tokens, and revokes grants.</summary>
public sealed class TokenIssuer(
    ClientRegistry clients, GrantStore grants, AccessTokens accessTokens, OAuthOptions options, Observability.KennelMetrics metrics, TimeProvider time)
{
    public const string RefreshTokenPrefix = "mcp_rt_";

    public async Task<IResult> TokenAsync(HttpContext context)
    {
        var (form, client, refusal) = await AuthenticateClientAsync(context);
        var grantType = form["grant_type"].ToString();
        var result = client is null ? refusal! : grantType switch
        {
            "authorization_code" => await RedeemCodeAsync(client, form, context.RequestAborted),
            "refresh_token" => await RefreshAsync(client, form, context.RequestAborted),
            var other => TokenEndpoints.Error("unsupported_grant_type", $"grant_type '{other}' is not supported; use authorization_code or refresh_token."),
        };
        if (TokenEndpoints.ErrorOf(result) is { } error)
        {
            metrics.TokenRefused(grantType, error);
        }
        else
        {
            metrics.TokenIssued(grantType);
        }
        return result;
    }

    /// <summary>The form of a token or revoke request and the client it authenticates (client_secret_post or none).</summary>
    private async Task<(IFormCollection Form, OAuthClient? Client, IResult? Refusal)> AuthenticateClientAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            return (FormCollection.Empty, null, TokenEndpoints.Error("invalid_request", "Send the parameters as application/x-www-form-urlencoded."));
        }
        var form = await FormBody.ReadAsync(context.Request);
        var client = await clients.FindAsync(form["client_id"].ToString(), context.RequestAborted);
        return client is not null && ClientRegistry.Authenticates(client, form["client_secret"].ToString())
            ? (form, client, null)
            : (form, null, TokenEndpoints.Error("invalid_client", "The client is unknown, or its client_secret is missing or wrong.", StatusCodes.Status401Unauthorized));
    }

    /// <summary>RFC 7009: revokes the grant a refresh or access token belongs to. Unknown tokens are answered 200 as well.</summary>
    public async Task<IResult> RevokeAsync(HttpContext context)
    {
        var (form, client, refusal) = await AuthenticateClientAsync(context);
        if (client is null)
        {
            return refusal!;
        }
        var token = form["token"].ToString();
        string? grantId = null;
        if (token.StartsWith(RefreshTokenPrefix, StringComparison.Ordinal))
        {
            grantId = (await grants.FindByRefreshTokenAsync(OAuthSecrets.Hash(token), context.RequestAborted)) is { } grant && grant.ClientId == client.Id ? grant.Id : null;
        }
        else if (AccessTokens.LooksLikeJwt(token) && await accessTokens.SignedGrantAsync(token, context.RequestAborted) is { } signed && signed.ClientId == client.Id)
        {
            grantId = signed.GrantId;
        }
        if (grantId is not null)
        {
            await grants.RevokeAsync(grantId, time.GetUtcNow().ToUnixTimeMilliseconds(), context.RequestAborted);
        }
        return Results.Ok();
    }

    private async Task<IResult> RedeemCodeAsync(OAuthClient client, IFormCollection form, CancellationToken cancellationToken)
    {
        var code = form["code"].ToString();
        if (code.Length == 0)
        {
            return TokenEndpoints.Error("invalid_request", "code is required.");
        }
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var verifier = form["code_verifier"].ToString();
        var presentedRedirectUri = form["redirect_uri"].ToString();
        var presentedResource = form["resource"].ToString();
        // Checked before the code is used up: a leaked code presented without its verifier does not burn the grant, and
        // neither does a request for the wrong resource, which its client may correct and retry.
        OAuthError? Check(string redirectUri, string? challenge, string resource) =>
            presentedRedirectUri != redirectUri ? new("invalid_grant", "redirect_uri does not match the one the code was issued for.")
            : (challenge is null ? verifier.Length > 0 : !PkceMatches(verifier, challenge)) ? new("invalid_grant", "code_verifier does not match the code_challenge.")
            : presentedResource.Length > 0 && presentedResource != resource ? new("invalid_target", "resource does not match the one the code was issued for.")
            : null;
        var (outcome, redeemed, refusal) = await grants.RedeemCodeAsync(OAuthSecrets.Hash(code), client.Id, now, Check, cancellationToken);
        switch (outcome)
        {
            case Redemption.Refused:
                return TokenEndpoints.Error(refusal!.Error, refusal.ErrorDescription);
            case Redemption.Unknown:
                return TokenEndpoints.Error("invalid_grant", "The code is not valid.");
            case Redemption.Reused:
                return TokenEndpoints.Error("invalid_grant", "The code was already used; every token issued from it has been revoked.");
            case Redemption.Expired:
                return TokenEndpoints.Error("invalid_grant", "The code has expired (codes live 10 minutes); authorize again.");
            case Redemption.Revoked:
                return TokenEndpoints.Error("invalid_grant", "The authorization has been revoked.");
            case Redemption.WrongClient:
                return TokenEndpoints.Error("invalid_grant", "The code was issued to another client.");
        }
        return await IssueAsync(client, redeemed!, now, cancellationToken);
    }

    private async Task<IResult> RefreshAsync(OAuthClient client, IFormCollection form, CancellationToken cancellationToken)
    {
        if (!client.MayRefresh)
        {
            return TokenEndpoints.Error("unauthorized_client", "This client did not register the refresh_token grant type.");
        }
        var token = form["refresh_token"].ToString();
        if (!token.StartsWith(RefreshTokenPrefix, StringComparison.Ordinal))
        {
            return TokenEndpoints.Error("invalid_grant", "The refresh token is not valid.");
        }
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var (outcome, grant) = await grants.RedeemRefreshTokenAsync(OAuthSecrets.Hash(token), client.Id, now, cancellationToken);
        var refusal = outcome switch
        {
            Redemption.Unknown => "The refresh token is not valid.",
            Redemption.Reused => "The refresh token was already used; every token of its family has been revoked.",
            Redemption.Expired => "The refresh token has expired; authorize again.",
            Redemption.Revoked => "The authorization has been revoked; authorize again.",
            Redemption.WrongClient => "The refresh token was issued to another client.",
            _ when form["resource"].ToString() is { Length: > 0 } resource && resource != grant!.Resource => "resource does not match the token's.",
            _ => null,
        };
        if (refusal is not null)
        {
            return TokenEndpoints.Error("invalid_grant", refusal);
        }
        if (form["scope"].ToString() is { Length: > 0 } asked)
        {
            var narrowed = OAuthScopes.Parse(asked, out _);
            if (!narrowed.IsSubsetOf(OAuthScopes.Parse(grant!.Scope, out _)))
            {
                return TokenEndpoints.Error("invalid_scope", "A refresh can only keep or narrow the granted scopes.");
            }
            grant.Scope = OAuthScopes.Format(narrowed);
        }
        return await IssueAsync(client, grant!, now, cancellationToken);
    }

    /// <summary>An access token, and a refresh token when the client registered that grant type.</summary>
    private async Task<IResult> IssueAsync(OAuthClient client, GrantRow grant, long now, CancellationToken cancellationToken)
    {
        string? refresh = null;
        if (client.MayRefresh)
        {
            refresh = RefreshTokenPrefix + OAuthSecrets.New();
            await grants.AddRefreshTokenAsync(grant.Id, OAuthSecrets.Hash(refresh), now, now + (long)options.RefreshTokenLifetime.TotalMilliseconds, cancellationToken);
        }
        var access = await accessTokens.IssueAsync(grant, cancellationToken);
        return TokenEndpoints.Json(new TokenResponse
        {
            AccessToken = access,
            TokenType = "Bearer",
            ExpiresIn = (int)options.AccessTokenLifetime.TotalSeconds,
            RefreshToken = refresh,
            Scope = grant.Scope,
        }, OAuthJson.Default.TokenResponse);
    }

    private static bool PkceMatches(string verifier, string challenge)
    {
        // RFC 7636: 43-128 characters of [A-Za-z0-9-._~].
        if (verifier.Length is < 43 or > 128 || verifier.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '.' or '_' or '~')))
        {
            return false;
        }
        var computed = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(computed), Encoding.ASCII.GetBytes(challenge));
    }
}
