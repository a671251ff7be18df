using System.Net;
using Kennel.Contracts.ApiKeys;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// A client as the authorize and token endpoints see it, whether registered (<c>mcp_…</c>) or described by a client ID
/// metadata document (an https URL). Public clients have no secret and must use PKCE.
/// </summary>
public sealed record OAuthClient(string Id, string Name, IReadOnlyList<string> RedirectUris, IReadOnlySet<string> Scopes, string? SecretHash,
    IReadOnlyList<string>? GrantTypes = null)
{
    public bool IsPublic => SecretHash is null;

    /// <summary>Whether the client registered the refresh_token grant (both grants when it named none).</summary>
    public bool MayRefresh => GrantTypes is null || GrantTypes.Contains("refresh_token");

    /// <summary>PKCE is required of public clients and of any client redirecting to loopback (a native app on this machine).</summary>
    public bool RequiresPkce(string redirectUri) => IsPublic || RedirectUriRules.IsLoopback(new Uri(redirectUri));
}

/// <summary>Redirect URIs are https, or http on a loopback address; no fragment; matched exactly.</summary>
public static class RedirectUriRules
{
    public const int MaxCount = 10;

    public static string? Problem(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 2000 || !Uri.TryCreate(value, UriKind.Absolute, out var uri))
        {
            return $"'{value}' is not an absolute URL.";
        }
        if (uri.Fragment.Length > 0)
        {
            return $"'{value}' has a fragment, which a redirect URI may not have.";
        }
        if (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && IsLoopback(uri)))
        {
            return uri.UserInfo.Length > 0 ? $"'{value}' carries credentials." : null;
        }
        return $"'{value}' must be https, or http on a loopback address (localhost, 127.0.0.1, [::1]).";
    }

    public static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}

/// <summary>Scope strings: space-separated, from the four of <see cref="Scopes"/>, written in their canonical order.</summary>
public static class OAuthScopes
{
    public const string Default = "mcp:read mcp:chat";

    public static IReadOnlySet<string> Parse(string? scope, out string? unknown)
    {
        var scopes = (scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        unknown = scopes.FirstOrDefault(s => !Contracts.ApiKeys.Scopes.All.Contains(s));
        return scopes;
    }

    public static string Format(IEnumerable<string> scopes) => string.Join(' ', Scopes.All.Where(scopes.Contains));
}
