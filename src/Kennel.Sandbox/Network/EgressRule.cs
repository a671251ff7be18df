using System.Globalization;
using System.Net;

namespace Kennel.Sandbox.Network;

/// <summary>
/// One destination an allow-list lets through: a host name (<c>api.github.com</c>) or every name under a domain
/// (<c>*.pypi.org</c>, which does not match <c>pypi.org</c> itself), on one port: 443 unless the rule names another.
/// </summary>
public sealed record EgressRule(string Host, int Port)
{
    public const int DefaultPort = 443;
    private const int MaxHostLength = 253;
    private const int MaxLabelLength = 63;

    private bool IsWildcard => Host.StartsWith("*.", StringComparison.Ordinal);

    /// <summary>Whether a connection to <paramref name="host"/> (lower case) on <paramref name="port"/> is what this rule names.</summary>
    public bool Matches(string host, int port) =>
        port == Port && (IsWildcard
            ? host.Length > Host.Length - 1 && host.EndsWith(Host.AsSpan(1), StringComparison.Ordinal)
            : string.Equals(host, Host, StringComparison.Ordinal));

    /// <summary>The rule as written back: <c>host</c> for port 443, else <c>host:port</c>.</summary>
    public override string ToString() => Port == DefaultPort ? Host : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Reads <c>host</c>, <c>*.domain</c>, <c>host:port</c> or <c>*.domain:port</c>; null and a reason when it is none of them.</summary>
    public static EgressRule? Parse(string? text, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = "a rule must be a host name such as api.github.com, *.pypi.org or db.example.com:5432.";
            return null;
        }
        var host = text.Trim().ToLowerInvariant();
        var port = DefaultPort;
        var colon = host.LastIndexOf(':');
        if (colon >= 0)
        {
            if (!int.TryParse(host.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                problem = $"'{text}' has no valid port: give host:port with a port from 1 to 65535.";
                return null;
            }
            host = host[..colon];
        }
        if (HostProblem(host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host) is { } reason)
        {
            problem = $"'{text}' is not a host name: {reason}";
            return null;
        }
        return new EgressRule(host, port);
    }

    /// <summary>Why <paramref name="host"/> is not a DNS name a rule or a request may name, or null when it is one.</summary>
    internal static string? HostProblem(string host)
    {
        if (host.Length is 0 or > MaxHostLength)
        {
            return $"a name has 1-{MaxHostLength} characters.";
        }
        if (IPAddress.TryParse(host, out _) || host.Contains(':', StringComparison.Ordinal))
        {
            return "addresses are never allowed, only names (the worker resolves them and checks every address).";
        }
        var labels = host.Split('.');
        foreach (var label in labels)
        {
            if (label.Length is 0 or > MaxLabelLength || label[0] == '-' || label[^1] == '-'
                || !label.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                return $"each dot-separated label has 1-{MaxLabelLength} letters, digits or inner '-' ('*.' may only start a rule).";
            }
        }
        return labels[^1].All(char.IsAsciiDigit) ? "the last label must not be all digits." : null;
    }
}
