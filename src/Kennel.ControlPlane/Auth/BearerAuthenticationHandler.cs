using System.Security.Claims;
using System.Text.Encodings.Web;
using Kennel.ControlPlane.ApiKeys;
using Kennel.ControlPlane.OAuth;
using Kennel.ControlPlane.Workers;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kennel.ControlPlane.Auth;

/// <summary>
/// Reads <c>Authorization: Bearer …</c>. The token's prefix says what it is: an API key (<c>kn_</c>) becomes a
/// <see cref="Caller"/> with a workspace and scopes; a worker credential (<c>kw_</c>) becomes a worker identity that
/// only the worker protocol accepts; an OAuth access token (a JWT) becomes a <see cref="Caller"/> too, but only on an
/// MCP endpoint, and only the one it was issued for (its <c>aud</c> is that endpoint's URL).
/// </summary>
public sealed class BearerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyService apiKeys,
    WorkerRegistry workers,
    AccessTokens accessTokens,
    OAuthIssuer issuer)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";
    public const string WorkerIdClaim = "kennel:worker_id";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("The Authorization header must be 'Bearer <token>'.");
        }
        var token = header["Bearer ".Length..].Trim();
        if (token.StartsWith(ApiKeyService.TokenPrefix + "_", StringComparison.Ordinal)
            && await apiKeys.AuthenticateAsync(token, Context.RequestAborted) is { } caller)
        {
            return Success(caller.ToPrincipal(SchemeName));
        }
        if (token.StartsWith(WorkerRegistry.CredentialPrefix + "_", StringComparison.Ordinal)
            && await workers.AuthenticateAsync(token, Context.RequestAborted) is { } workerId)
        {
            return Success(new ClaimsPrincipal(new ClaimsIdentity([new Claim(WorkerIdClaim, workerId)], SchemeName)));
        }
        if (AccessTokens.LooksLikeJwt(token))
        {
            return await AuthenticateAccessTokenAsync(token);
        }
        return AuthenticateResult.Fail("The credential is unknown, malformed or revoked.");
    }

    private async Task<AuthenticateResult> AuthenticateAccessTokenAsync(string token)
    {
        if (Context.GetEndpoint()?.Metadata.GetMetadata<ProtectedResourceEndpoint>() is null)
        {
            return AuthenticateResult.Fail("OAuth access tokens are for the MCP endpoints; use an API key here.");
        }
        var (caller, problem) = await accessTokens.ValidateAsync(token, issuer.ResourceFor(Request.Path.Value ?? ""), Context.RequestAborted);
        return caller is null ? AuthenticateResult.Fail(problem!) : Success(caller.ToPrincipal(SchemeName));
    }

    private static AuthenticateResult Success(ClaimsPrincipal principal) =>
        AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
}
