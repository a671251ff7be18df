using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.OAuth;
using Kennel.Contracts.Users;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Workspaces;

namespace Kennel.ControlPlane.OAuth;

/// <summary>Marks an endpoint as an MCP endpoint: OAuth access tokens are accepted there when issued for its URL.</summary>
public sealed class ProtectedResourceEndpoint;

/// <summary>Discovery: RFC 8414 authorization server metadata, RFC 9728 protected resource metadata, and the JWKS.</summary>
public static class MetadataEndpoints
{
    public static void MapOAuthMetadata(this IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/oauth-authorization-server", ServerMetadata);
        app.MapGet("/.well-known/openid-configuration", ServerMetadata);
        app.MapGet("/.well-known/oauth-protected-resource", (OAuthIssuer issuer) => ResourceMetadata(issuer, OAuthIssuer.FleetPath));
        app.MapGet($"/.well-known/oauth-protected-resource{OAuthIssuer.FleetPath}", (OAuthIssuer issuer) => ResourceMetadata(issuer, OAuthIssuer.FleetPath));
        // Answered alike for every name a workspace could have, existing or not, so an anonymous caller cannot list the
        // workspaces; a token is issued for a workspace only to a user who belongs to it.
        app.MapGet("/.well-known/oauth-protected-resource/w/{workspace}/mcp", (OAuthIssuer issuer, string workspace) =>
            WorkspaceName.IsValid(workspace)
                ? ResourceMetadata(issuer, OAuthIssuer.WorkspacePath(workspace))
                : TokenEndpoints.Error("not_found", "No workspace can have that name: 1-63 characters of a-z, 0-9 and '-'.", StatusCodes.Status404NotFound));
        app.MapGet("/.well-known/jwks.json", async (SigningKeys keys, CancellationToken cancellationToken) =>
            Results.Json(await keys.JwksAsync(cancellationToken), OAuthJson.Default.JsonWebKeySet));

        // Rotation is the installation's: an admin key of the default workspace.
        app.MapPost("/v1/oauth/signing-keys/rotate", async (HttpContext context, SigningKeys keys) =>
        {
            if (!Caller.From(context.User).IsInstallationAdmin)
            {
                throw ApiProblem.Forbidden(ErrorCodes.WorkspaceMismatch, "Signing keys are rotated with an admin key of the 'default' workspace.");
            }
            return TypedResults.Ok(new SigningKeyRotation(await keys.RotateAsync(context.RequestAborted)));
        }).RequireAuthorization(ScopePolicies.For(Scopes.Admin));
    }

    private static IResult ServerMetadata(OAuthIssuer issuer) => Results.Json(new AuthorizationServerMetadata
    {
        Issuer = issuer.Url,
        AuthorizationEndpoint = $"{issuer.Url}/oauth/authorize",
        TokenEndpoint = $"{issuer.Url}/oauth/token",
        RegistrationEndpoint = $"{issuer.Url}/oauth/register",
        ResponseTypesSupported = ["code"],
        GrantTypesSupported = ["authorization_code", "refresh_token"],
        ScopesSupported = Scopes.All,
        TokenEndpointAuthMethodsSupported = ["client_secret_post", "none"],
        CodeChallengeMethodsSupported = ["S256"],
        RevocationEndpoint = $"{issuer.Url}/oauth/revoke",
        RevocationEndpointAuthMethodsSupported = ["client_secret_post", "none"],
        JwksUri = $"{issuer.Url}/.well-known/jwks.json",
        ClientIdMetadataDocumentSupported = true,
        AuthorizationResponseIssParameterSupported = true,
    }, OAuthJson.Default.AuthorizationServerMetadata);

    private static IResult ResourceMetadata(OAuthIssuer issuer, string path) => Results.Json(new ProtectedResourceMetadata
    {
        Resource = issuer.ResourceFor(path),
        ScopesSupported = Scopes.All,
        AuthorizationServers = [issuer.Url],
        BearerMethodsSupported = ["header"],
    }, OAuthJson.Default.ProtectedResourceMetadata);
}
