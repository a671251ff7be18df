using ModelContextProtocol.Server;

namespace Kennel.Mcp;

/// <summary>
/// One <c>Mcp-Session-Id</c>: its transport, the server running on it, and the identity it belongs to. It counts the
/// requests in flight so that idle eviction never ends a session in the middle of a call or an open stream.
/// </summary>
public sealed class McpHttpSession : IAsyncDisposable
{
    private readonly TimeProvider time;
    private readonly CancellationTokenSource closed = new();
    private int inFlight;
    private long lastActivity;
    private int getStreamOpen;
    private int disposed;

    internal McpHttpSession(string id, string owner, StreamableHttpServerTransport transport, McpServer server, McpEventStore events, TimeProvider time)
    {
        Events = events;
        Id = id;
        Owner = owner;
        Transport = transport;
        Server = server;
        this.time = time;
        lastActivity = time.GetTimestamp();
        RunTask = server.RunAsync(closed.Token);
    }

    public string Id { get; }

    /// <summary>The identity that initialized the session; every later request must present the same one.</summary>
    public string Owner { get; }

    public StreamableHttpServerTransport Transport { get; }

    public McpServer Server { get; }

    /// <summary>The session's SSE events, for resuming a stream with <c>Last-Event-ID</c>.</summary>
    public McpEventStore Events { get; }

    private Task RunTask { get; }

    /// <summary>Marks a request in flight until the returned scope is disposed.</summary>
    public IDisposable Enter()
    {
        Interlocked.Increment(ref inFlight);
        Volatile.Write(ref lastActivity, time.GetTimestamp());
        return new Exit(this);
    }

    /// <summary>Only one standalone GET stream per session: the transport has one queue of unsolicited messages.</summary>
    public bool TryOpenGetStream() => Interlocked.Exchange(ref getStreamOpen, 1) == 0;

    public bool IsIdle(TimeSpan timeout) =>
        Volatile.Read(ref inFlight) == 0 && time.GetElapsedTime(Volatile.Read(ref lastActivity)) >= timeout;

    /// <summary>Transport first (ends open streams and the message loop), then the run task, then the server.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }
        await Transport.DisposeAsync();
        await closed.CancelAsync();
        await RunTask.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Server.DisposeAsync();
        Events.Close();
        closed.Dispose();
    }

    private sealed class Exit(McpHttpSession session) : IDisposable
    {
        private int done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref done, 1) == 0)
            {
                Volatile.Write(ref session.lastActivity, session.time.GetTimestamp());
                Interlocked.Decrement(ref session.inFlight);
            }
        }
    }
}
