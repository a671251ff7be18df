using System.Globalization;
using System.Text;

namespace Kennel.Sandbox.Network;

/// <summary>The head of a request to the egress proxy: <c>CONNECT host:port</c>, or a plain-HTTP request with an absolute URL.</summary>
internal sealed record ProxyRequest(bool IsConnect, string Host, int Port, string Method, string PathAndQuery, string Version, IReadOnlyList<string> Headers)
{
    private const int HttpPort = 80;

    public static ProxyRequest? Parse(byte[] head)
    {
        if (head.Length == 0)
        {
            return null;
        }
        var lines = Encoding.Latin1.GetString(head).Split("\r\n");
        var parts = lines[0].Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return null;
        }
        IReadOnlyList<string> headers = [.. lines.Skip(1).Where(l => l.Length > 0)];
        if (parts[0] == "CONNECT")
        {
            return Authority(parts[1], null) is { } target ? new ProxyRequest(true, target.Host, target.Port, parts[0], "", parts[2], headers) : null;
        }
        if (!Uri.TryCreate(parts[1], UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttp)
        {
            return null;
        }
        return Authority(url.Authority, HttpPort) is { } http
            ? new ProxyRequest(false, http.Host, http.Port, parts[0], url.PathAndQuery, parts[2], headers)
            : null;
    }

    /// <summary>The head to send the destination: the path only, without the proxy's own headers, one request per connection.</summary>
    public byte[] OriginHead()
    {
        var head = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{Method} {PathAndQuery} {Version}\r\n");
        foreach (var header in Headers)
        {
            if (!header.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase) && !header.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase))
            {
                head.Append(header).Append("\r\n");
            }
        }
        return Encoding.Latin1.GetBytes(head.Append("Connection: close\r\n\r\n").ToString());
    }

    private static (string Host, int Port)? Authority(string authority, int? defaultPort)
    {
        var colon = authority.LastIndexOf(':');
        var closes = authority.LastIndexOf(']');
        string host;
        int port;
        if (colon > closes)
        {
            if (!int.TryParse(authority.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                return null;
            }
            host = authority[..colon];
        }
        else if (defaultPort is { } fallback)
        {
            (host, port) = (authority, fallback);
        }
        else
        {
            return null;
        }
        host = host.ToLowerInvariant().TrimEnd('.');
        return host.Length == 0 ? null : (host, port);
    }
}
