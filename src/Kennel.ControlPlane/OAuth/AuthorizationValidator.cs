using Kennel.Contracts.ApiKeys;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// Checks an authorization request in the order that keeps it safe: until the client and its exact redirect URI are
/// known, errors are shown on a page (redirecting to an unchecked URI would be an open redirect); after that, errors go
/// back to the client as RFC 6749 error redirects.
/// </summary>
public sealed class AuthorizationValidator(ClientRegistry clients, OAuthIssuer issuer)
{
    public async Task<(ValidAuthorization? Valid, AuthorizationRefusal? Refusal, OAuthClient? Client, string? RedirectUri)> ValidateAsync(
        AuthorizationRequest request, CancellationToken cancellationToken)
    {
        if (request.Duplicate is { } duplicate)
        {
            return Page($"The parameter '{duplicate}' appears more than once.");
        }
        var client = await clients.FindAsync(request.ClientId, cancellationToken);
        if (client is null)
        {
            return Page(request.ClientId is null ? "The request has no client_id." : "The client_id is not a client Kennel knows.");
        }
        var redirectUri = request.RedirectUri ?? (client.RedirectUris.Count == 1 ? client.RedirectUris[0] : null);
        if (redirectUri is null || !client.RedirectUris.Contains(redirectUri, StringComparer.Ordinal))
        {
            return Page("The redirect_uri is not one this client registered, so Kennel will not send your browser there.");
        }
        (ValidAuthorization?, AuthorizationRefusal?, OAuthClient?, string?) Refuse(string error, string description) =>
            (null, new AuthorizationRefusal(error, description, Redirect: true), client, redirectUri);

        if (request.ResponseType != "code")
        {
            return Refuse("unsupported_response_type", "Only response_type=code is supported.");
        }
        if (request.CodeChallengeMethod is { } method && method != "S256")
        {
            return Refuse("invalid_request", $"code_challenge_method '{method}' is not supported; use S256.");
        }
        if (request.CodeChallenge is null)
        {
            if (client.RequiresPkce(redirectUri))
            {
                return Refuse("invalid_request", "This client must use PKCE: send code_challenge and code_challenge_method=S256.");
            }
        }
        else if (request.CodeChallengeMethod is null || request.CodeChallenge.Length != 43 || request.CodeChallenge.Any(c => !IsBase64Url(c)))
        {
            return Refuse("invalid_request", "code_challenge must be the 43-character base64url SHA-256 of the verifier, with code_challenge_method=S256.");
        }
        var resource = request.Resource ?? issuer.ResourceFor(OAuthIssuer.FleetPath);
        if (issuer.ParseResource(resource) is not { } target)
        {
            return Refuse("invalid_target", $"resource must be {issuer.ResourceFor(OAuthIssuer.FleetPath)} or {issuer.Url}/w/{{workspace}}/mcp.");
        }
        var scopes = OAuthScopes.Parse(request.Scope ?? OAuthScopes.Default, out var unknown);
        if (unknown is not null || scopes.Count == 0)
        {
            return Refuse("invalid_scope", $"Unknown scope '{unknown}'. Scopes: {string.Join(' ', Scopes.All)}.");
        }
        if (scopes.FirstOrDefault(s => !client.Scopes.Contains(s)) is { } unregistered)
        {
            return Refuse("invalid_scope", $"The client did not register the scope '{unregistered}'.");
        }
        return (new ValidAuthorization(request, client, redirectUri, resource, target.Workspace, scopes, request.CodeChallenge), null, client, redirectUri);
    }

    /// <summary>Where the browser goes with an answer: the redirect URI with the parameters, state and iss (RFC 9207) added.</summary>
    public string RedirectTo(string redirectUri, string? state, params (string Name, string Value)[] parameters)
    {
        var query = parameters.Append(("iss", issuer.Url));
        if (state is not null)
        {
            query = query.Append(("state", state));
        }
        var separator = redirectUri.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        return redirectUri + separator + string.Join('&', query.Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2)}"));
    }

    private static (ValidAuthorization?, AuthorizationRefusal?, OAuthClient?, string?) Page(string description) =>
        (null, new AuthorizationRefusal("invalid_request", description, Redirect: false), null, null);

    private static bool IsBase64Url(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';
}
