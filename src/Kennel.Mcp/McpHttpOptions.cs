namespace Kennel.Mcp;

/// <summary>How Kennel's MCP endpoints treat their sessions and the browsers that may reach them.</summary>
public sealed record McpHttpOptions
{
    /// <summary>The revision Kennel speaks; the package still negotiates the older ones with clients that ask for them.</summary>
    public const string ProtocolVersion = "2025-11-25";

    /// <summary>A session with no request in flight for this long is ended; the client starts a new one.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Origins (<c>scheme://host[:port]</c>) a browser may call from. Empty means same-origin loopback only, which is what
    /// stops a web page from driving a local server through DNS rebinding. Requests without <c>Origin</c> (every
    /// non-browser client) are not affected.
    /// </summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];

    /// <summary>
    /// Requests each client may make in a minute; 0 turns the limit off. A request is one HTTP request, so a tool call
    /// that waits (and streams progress) for minutes costs one, as does an open GET stream.
    /// </summary>
    public int RateLimitPerMinute { get; init; } = 60;

    /// <summary>
    /// Events kept per session so a client can resume a lost SSE stream with <c>Last-Event-ID</c>; the oldest are
    /// dropped beyond this, and all of them when the session ends.
    /// </summary>
    public int MaxStoredEventsPerSession { get; init; } = 256;

    /// <summary>The bytes of JSON those events may hold per session, oldest dropped first.</summary>
    public long MaxStoredEventBytesPerSession { get; init; } = 1024 * 1024;
}
