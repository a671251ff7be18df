using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

// Event stores belong to stateful Streamable HTTP, which this endpoint is (it speaks 2025-11-25 with sessions).
#pragma warning disable MCP9006

namespace Kennel.Mcp;

/// <summary>
/// The live sessions of one endpoint, by id. Ids are 128 random bits, so they cannot be guessed; each is bound to the
/// identity that created it, and a lookup by anyone else finds nothing. Idle sessions are ended on a timer.
/// </summary>
public sealed class McpSessionTable : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, McpHttpSession> sessions = new(StringComparer.Ordinal);
    private readonly McpHttpOptions options;
    private readonly ILoggerFactory loggerFactory;
    private readonly TimeProvider time;
    private readonly ITimer evictionTimer;

    public McpSessionTable(McpHttpOptions options, ILoggerFactory loggerFactory, TimeProvider time)
    {
        this.options = options;
        this.loggerFactory = loggerFactory;
        this.time = time;
        evictionTimer = time.CreateTimer(_ => _ = EvictIdleAsync(), null, options.EvictionInterval, options.EvictionInterval);
    }

    public int Count => sessions.Count;

    /// <summary>Starts a server on a new transport under a fresh id.</summary>
    public McpHttpSession Create(string owner, McpServerOptions serverOptions, IServiceProvider services)
    {
        var id = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(16));
        var events = new McpEventStore(options.MaxStoredEventsPerSession, options.MaxStoredEventBytesPerSession);
        var transport = new StreamableHttpServerTransport(loggerFactory) { SessionId = id, EventStreamStore = events };
        var server = McpServer.Create(transport, serverOptions, loggerFactory, services);
        var session = new McpHttpSession(id, owner, transport, server, events, time);
        sessions[id] = session;
        return session;
    }

    /// <summary>The session, if it exists and belongs to <paramref name="owner"/>.</summary>
    public McpHttpSession? Find(string id, string owner) =>
        sessions.TryGetValue(id, out var session) && string.Equals(session.Owner, owner, StringComparison.Ordinal) ? session : null;

    /// <summary>Ends the session if it exists and belongs to <paramref name="owner"/>.</summary>
    public async Task<bool> EndAsync(string id, string owner)
    {
        if (Find(id, owner) is null || !sessions.TryRemove(id, out var session))
        {
            return false;
        }
        await session.DisposeAsync();
        return true;
    }

    /// <summary>Ends every session that has had no request in flight for the idle timeout.</summary>
    public async Task EvictIdleAsync()
    {
        foreach (var (id, session) in sessions)
        {
            if (session.IsIdle(options.IdleTimeout) && sessions.TryRemove(id, out _))
            {
                await session.DisposeAsync();
            }
        }
    }

    /// <summary>Ends every session: on shutdown, so open streams and waiting calls return instead of holding the stop.</summary>
    public async Task EndAllAsync()
    {
        foreach (var id in sessions.Keys)
        {
            if (sessions.TryRemove(id, out var session))
            {
                await session.DisposeAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await evictionTimer.DisposeAsync();
        await EndAllAsync();
    }
}
