using System.Net;

namespace Kennel.ControlPlane.Skills.Registry;

/// <summary>
/// Which URLs a registry or an archive may have. <c>https://</c> anywhere; <c>http://</c> only to a loopback host;
/// <c>file:///</c> only inside one of the installation's <see cref="SkillRegistryOptions.Roots"/>, checked on the path with
/// every symlink and <c>..</c> resolved. Where a network URL may connect is then decided at connect time by
/// <see cref="Http.OutboundAddresses"/>. The folders under the roots are the admin's: a link swapped in between this check
/// and the read is outside the threat model.
/// </summary>
public static class SkillRegistryUrls
{
    public const string IndexFile = "index.json";
    private const int MaxLinkHops = 40;

    /// <summary>
    /// The index of the registry at <paramref name="registry"/>: <c>index.json</c> under its path, with its query; a URL
    /// that already names <c>index.json</c> is the index itself.
    /// </summary>
    public static Uri IndexUrl(Uri registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var builder = new UriBuilder(registry) { Fragment = "" };
        if (builder.Path.EndsWith("/" + IndexFile, StringComparison.Ordinal))
        {
            return builder.Uri;
        }
        builder.Path = (builder.Path.EndsWith('/') ? builder.Path : builder.Path + "/") + IndexFile;
        return builder.Uri;
    }

    /// <summary>Null when Kennel may fetch <paramref name="url"/>; otherwise why not, in a sentence that carries no secret.</summary>
    public static string? Refusal(Uri url, SkillRegistryOptions options)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(options);
        if (!url.IsAbsoluteUri)
        {
            return "a registry URL is absolute";
        }
        if (url.UserInfo.Length > 0)
        {
            return $"{Redacted(url)}: a registry URL carries no user name or password";
        }
        return url.Scheme switch
        {
            "https" => url.Host.Length > 0 ? null : "an https URL has a host",
            "http" => IsLoopbackHost(url) ? null : $"{Redacted(url)}: http:// is only for loopback hosts; use https://",
            "file" => LocalPath(url, options, out var refusal) is null ? refusal : null,
            _ => $"{Redacted(url)}: a registry URL is https://, http:// to a loopback host, or file:///",
        };
    }

    /// <summary>
    /// The real path of a <c>file:///</c> URL when it lies inside one of the roots (both sides with links resolved);
    /// otherwise null and the reason.
    /// </summary>
    public static string? LocalPath(Uri url, SkillRegistryOptions options, out string? refusal)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(options);
        refusal = null;
        if (!url.IsFile || url.IsUnc || url.Host.Length > 0 || url.Query.Length > 0)
        {
            refusal = $"{Redacted(url)}: a local registry is file:/// and an absolute path, with no host or query";
            return null;
        }
        if (options.Roots.Count == 0)
        {
            refusal = $"{Redacted(url)}: local folder registries are off; an admin allows folders with {SkillRegistryOptions.RootsVariable}";
            return null;
        }
        var path = RealPath(url.LocalPath);
        foreach (var root in options.Roots)
        {
            if (RealPath(root) is { } real && path is not null && (path == real || path.StartsWith(real.TrimEnd('/') + "/", StringComparison.Ordinal)))
            {
                return path;
            }
        }
        refusal = $"{Redacted(url)} is outside the folders an admin allows with {SkillRegistryOptions.RootsVariable}";
        return null;
    }

    /// <summary>The URL as it may be shown or logged: scheme, host, port and path, without user info, query or fragment.</summary>
    public static string Redacted(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.IsAbsoluteUri ? url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped) : "(a relative URL)";
    }

    private static bool IsLoopbackHost(Uri url) =>
        url.IsLoopback && (string.Equals(url.Host, "localhost", StringComparison.OrdinalIgnoreCase) || IPAddress.TryParse(url.Host.Trim('[', ']'), out _));

    /// <summary>
    /// <paramref name="path"/> with <c>.</c>, <c>..</c> and every symlink along it resolved, as realpath(3) does; the part
    /// that does not exist yet is kept as written. Null for a relative path or links that loop.
    /// </summary>
    internal static string? RealPath(string path)
    {
        if (!Path.IsPathRooted(path))
        {
            return null;
        }
        var pending = new Stack<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        var resolved = "/";
        var hops = 0;
        while (pending.TryPop(out var part))
        {
            if (part == ".")
            {
                continue;
            }
            if (part == "..")
            {
                resolved = Path.GetDirectoryName(resolved) ?? "/";
                continue;
            }
            var next = Path.Combine(resolved, part);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                resolved = next;
                continue;
            }
            if (++hops > MaxLinkHops)
            {
                return null;
            }
            if (Path.IsPathRooted(target))
            {
                resolved = "/";
            }
            foreach (var piece in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.Push(piece);
            }
        }
        return resolved;
    }
}
