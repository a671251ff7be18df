using Kennel.ControlPlane.Workspaces;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// The issuer URL (<c>KENNEL_EXTERNAL_URL</c>, or this server's own loopback address) and the URLs derived from it: the
/// MCP endpoints a token can be issued for, and their metadata documents.
/// </summary>
public sealed class OAuthIssuer(string? externalUrl, IServer server)
{
    public const string FleetPath = "/mcp";
    private string? url = externalUrl?.TrimEnd('/');

    /// <summary>Without a trailing slash, e.g. <c>https://kennel.example.com</c>.</summary>
    public string Url => url ??= Listening();

    /// <summary>Cookies are Secure unless the issuer is plain http, which <see cref="Hosting.KennelSettings"/> allows on loopback only.</summary>
    public bool SecureCookies => Url.StartsWith("https://", StringComparison.Ordinal);

    public string ResourceFor(string endpointPath) => Url + endpointPath;

    public string MetadataUrlFor(string endpointPath) => $"{Url}/.well-known/oauth-protected-resource{endpointPath}";

    public static string WorkspacePath(string workspace) => $"/w/{workspace}/mcp";

    /// <summary>
    /// The endpoint path a resource URL names (<c>/mcp</c> or <c>/w/{workspace}/mcp</c>), and the workspace for the
    /// latter; null when it names no MCP endpoint of this server.
    /// </summary>
    public (string Path, string? Workspace)? ParseResource(string? resource)
    {
        if (resource is null || !resource.StartsWith(Url + "/", StringComparison.Ordinal))
        {
            return null;
        }
        var path = resource[Url.Length..];
        if (path == FleetPath)
        {
            return (path, null);
        }
        var parts = path.Split('/');
        return parts is ["", "w", var workspace, "mcp"] && WorkspaceName.IsValid(workspace) ? (path, workspace) : null;
    }

    private string Listening()
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The server is not listening yet, so the OAuth issuer is unknown.");
        var uri = new Uri(address);
        var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? "127.0.0.1" : uri.Host;
        return $"{uri.Scheme}://{(host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host)}:{uri.Port}";
    }
}
