using Microsoft.Extensions.Primitives;

namespace Kennel.ControlPlane.OAuth;

/// <summary>The parameters of /oauth/authorize, as received: from the query, or echoed back by the login and consent forms.</summary>
public sealed record AuthorizationRequest(IReadOnlyDictionary<string, string> Parameters, string? Duplicate)
{
    public static readonly string[] Names =
        ["client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method", "resource"];

    public string? ClientId => Get("client_id");
    public string? RedirectUri => Get("redirect_uri");
    public string? ResponseType => Get("response_type");
    public string? Scope => Get("scope");
    public string? State => Get("state");
    public string? CodeChallenge => Get("code_challenge");
    public string? CodeChallengeMethod => Get("code_challenge_method");
    public string? Resource => Get("resource");

    public static AuthorizationRequest From(IEnumerable<KeyValuePair<string, StringValues>> values)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        string? duplicate = null;
        foreach (var (name, value) in values)
        {
            if (!Names.Contains(name, StringComparer.Ordinal))
            {
                continue;
            }
            if (value.Count > 1)
            {
                duplicate ??= name;
            }
            parameters[name] = value.ToString();
        }
        return new AuthorizationRequest(parameters, duplicate);
    }

    /// <summary>The request as a query string, to come back to /oauth/authorize after signing in.</summary>
    public string ToQuery() => string.Join('&', Parameters.Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}"));

    private string? Get(string name) => Parameters.TryGetValue(name, out var value) && value.Length > 0 ? value : null;
}

/// <summary>A request that passed every check: who asks, where the answer goes, for which endpoint and scopes.</summary>
public sealed record ValidAuthorization(
    AuthorizationRequest Request,
    OAuthClient Client,
    string RedirectUri,
    string Resource,
    string? Workspace,
    IReadOnlySet<string> Scopes,
    string? CodeChallenge);

/// <summary>Why a request was refused: an error shown on a page (nothing to redirect to safely), or one redirected to the client.</summary>
public sealed record AuthorizationRefusal(string Error, string Description, bool Redirect);
