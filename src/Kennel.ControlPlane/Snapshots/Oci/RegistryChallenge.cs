using System.Text;

namespace Kennel.ControlPlane.Snapshots.Oci;

/// <summary>
/// One challenge of a <c>WWW-Authenticate</c> header (RFC 9110 section 11.6.1): a scheme and its parameters, such as
/// <c>Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/python:pull"</c>.
/// Parameter names are case-insensitive; quoted values may hold commas and backslash escapes.
/// </summary>
public sealed record RegistryChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public string? this[string name] => Parameters.TryGetValue(name, out var value) ? value : null;

    /// <summary>The challenge in a header value, or null when it is not one (an unterminated quote, a parameter without '=').</summary>
    public static RegistryChallenge? Parse(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return null;
        }
        var text = header.Trim();
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        var scheme = space < 0 ? text : text[..space];
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var at = space < 0 ? text.Length : space;
        while (at < text.Length)
        {
            at = Skip(text, at);
            if (at == text.Length)
            {
                break;
            }
            var equals = text.IndexOf('=', at);
            if (equals < 0)
            {
                return null;
            }
            var name = text[at..equals].Trim();
            at = equals + 1;
            string value;
            if (at < text.Length && text[at] == '"')
            {
                var quoted = new StringBuilder();
                for (at++; ; at++)
                {
                    if (at == text.Length)
                    {
                        return null;
                    }
                    if (text[at] == '\\' && at + 1 < text.Length)
                    {
                        quoted.Append(text[++at]);
                    }
                    else if (text[at] == '"')
                    {
                        at++;
                        break;
                    }
                    else
                    {
                        quoted.Append(text[at]);
                    }
                }
                value = quoted.ToString();
            }
            else
            {
                var comma = text.IndexOf(',', at);
                value = (comma < 0 ? text[at..] : text[at..comma]).Trim();
                at = comma < 0 ? text.Length : comma;
            }
            if (name.Length == 0)
            {
                return null;
            }
            parameters[name] = value;
        }
        return new RegistryChallenge(scheme, parameters);
    }

    private static int Skip(string text, int at)
    {
        while (at < text.Length && (text[at] == ',' || char.IsWhiteSpace(text[at])))
        {
            at++;
        }
        return at;
    }
}
