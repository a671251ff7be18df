using Microsoft.Extensions.Logging;

namespace Kennel.Cli;

/// <summary>What <c>kennel mcp</c> reads from its environment: <c>KENNEL_URL</c>, <c>KENNEL_API_KEY</c> and <c>LOG_LEVEL</c>.</summary>
public sealed record McpBridgeSettings(Uri BaseUrl, Uri Endpoint, string ApiKey, LogLevel LogLevel)
{
    /// <summary>
    /// Unlike the other commands, there is no fallback to the admin key file: an MCP client should act with a key made
    /// for it, with the scopes it needs, and a bridge started on the server's own machine must not become an admin.
    /// </summary>
    public static McpBridgeSettings FromEnvironment() => From(Environment.GetEnvironmentVariable);

    public static McpBridgeSettings From(Func<string, string?> read)
    {
        var level = ParseLogLevel(read("LOG_LEVEL"));
        var url = read("KENNEL_URL") is { Length: > 0 } set ? set.Trim() : KennelClient.DefaultUrl;
        if (!Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            throw new CliException($"KENNEL_URL must be an http(s) URL, not '{url}'.", ExitCodes.Usage);
        }
        // KENNEL_URL is the control plane; accept it with /mcp already on, as people paste the HTTP endpoint.
        var endpoint = baseUrl.AbsolutePath.EndsWith("/mcp/", StringComparison.Ordinal)
            ? new Uri(baseUrl.ToString().TrimEnd('/'))
            : new Uri(baseUrl, "mcp");
        var key = read("KENNEL_API_KEY")?.Trim();
        if (string.IsNullOrEmpty(key))
        {
            throw new CliException(
                "KENNEL_API_KEY is not set: 'kennel mcp' needs an API key in its environment (create one with 'kennel apikey create --scopes mcp:read,mcp:write').",
                ExitCodes.Usage);
        }
        return new McpBridgeSettings(baseUrl, endpoint, key, level);
    }

    public static LogLevel ParseLogLevel(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" => LogLevel.Warning,
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warn" or "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        _ => throw new CliException($"LOG_LEVEL must be one of debug, info, warn, error, not '{value}'.", ExitCodes.Usage),
    };
}
