using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

// Event stores belong to stateful Streamable HTTP, which Kennel's endpoints are (they speak 2025-11-25 with sessions).
#pragma warning disable MCP9006

namespace Kennel.Mcp;

/// <summary>
/// The events of every session's SSE streams, kept in memory so a client that lost a stream can resume it with
/// <c>Last-Event-ID</c> (SEP-1699); the package's transport writes them here and reads them back. Each session's events
/// are bounded on their own (<see cref="McpHttpOptions.MaxStoredEventsPerSession"/> and
/// <see cref="McpHttpOptions.MaxStoredEventBytesPerSession"/>, oldest dropped first), so a busy session never pushes
/// out another's. A session's events are kept from <see cref="Open"/> until <see cref="Forget"/>. An event id is
/// <c>{session id}:{sequence}</c>: the package checks that a resumed stream is the resuming session's own.
/// </summary>
public sealed class McpEventStore(int maxEventsPerSession, long maxBytesPerSession) : ISseEventStreamStore
{
    private static readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo MessageJson =
        McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage));

    /// <summary>Each thread's writer for <see cref="SizeOf"/>, into <see cref="ScratchJson"/>'s buffer.</summary>
    [ThreadStatic]
    private static Utf8JsonWriter? sizeWriter;

    private readonly ConcurrentDictionary<string, SessionEvents> sessions = new(StringComparer.Ordinal);

    /// <summary>The events kept for a session.</summary>
    public int Count(string sessionId) => sessions.TryGetValue(sessionId, out var session) ? session.Count : 0;

    /// <summary>Starts keeping a session's events: the session started.</summary>
    public void Open(string sessionId) => sessions.TryAdd(sessionId, new SessionEvents(sessionId, maxEventsPerSession, maxBytesPerSession));

    /// <summary>
    /// A writer into the session's events. A session that is not open (it ended while a request was still in flight)
    /// gets one that keeps nothing, so no events outlive their session.
    /// </summary>
    public ValueTask<ISseEventStreamWriter> CreateStreamAsync(SseEventStreamOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!sessions.TryGetValue(options.SessionId, out var session))
        {
            session = new SessionEvents(options.SessionId, maxEventsPerSession, maxBytesPerSession);
            session.Close();
        }
        return ValueTask.FromResult(session.CreateStream(options.StreamId, options.Mode));
    }

    public ValueTask<ISseEventStreamReader?> GetStreamReaderAsync(string lastEventId, CancellationToken cancellationToken = default)
    {
        var colon = lastEventId.LastIndexOf(':');
        var reader = colon > 0
            && long.TryParse(lastEventId.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var after)
            && sessions.TryGetValue(lastEventId[..colon], out var session)
                ? session.ReaderAfter(after)
                : null;
        return ValueTask.FromResult(reader);
    }

    /// <summary>Drops a session's events and ends its readers: the session ended.</summary>
    public void Forget(string sessionId)
    {
        if (sessions.TryRemove(sessionId, out var session))
        {
            session.Close();
        }
    }

    /// <summary>
    /// The bytes of <paramref name="message"/>'s JSON, as the transport writes it. It is written into a scratch buffer
    /// that each thread reuses, so that measuring each answer allocates nothing.
    /// </summary>
    internal static int SizeOf(JsonRpcMessage message)
    {
        var buffer = ScratchJson.Take();
        var writer = sizeWriter ??= new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Encoder = McpJsonUtilities.DefaultOptions.Encoder,
            Indented = McpJsonUtilities.DefaultOptions.WriteIndented,
            MaxDepth = McpJsonUtilities.DefaultOptions.MaxDepth,
            SkipValidation = true,
        });
        writer.Reset(buffer);
        try
        {
            JsonSerializer.Serialize(writer, message, MessageJson);
            writer.Flush();
            return buffer.WrittenCount;
        }
        finally
        {
            if (!ScratchJson.Release(buffer))
            {
                // The buffer was dropped: so is the writer that holds it.
                sizeWriter = null;
            }
        }
    }

    private sealed class SessionEvents(string sessionId, int maxEvents, long maxBytes)
    {
        private readonly Lock gate = new();
        private readonly LinkedList<Stored> events = new();
        private readonly Dictionary<string, StreamState> streams = new(StringComparer.Ordinal);
        private long nextId;
        private long bytes;
        private bool closed;

        public string SessionId => sessionId;

        public int Count
        {
            get
            {
                lock (gate)
                {
                    return events.Count;
                }
            }
        }

        public ISseEventStreamWriter CreateStream(string streamId, SseEventStreamMode mode)
        {
            lock (gate)
            {
                var state = new StreamState(streamId, mode) { Completed = closed };
                streams[streamId] = state;
                return new Writer(this, state);
            }
        }

        public ISseEventStreamReader? ReaderAfter(long after)
        {
            lock (gate)
            {
                var stream = events.FirstOrDefault(e => e.Id == after)?.Stream;
                return stream is null ? null : new Reader(this, stream, after);
            }
        }

        public void Close()
        {
            lock (gate)
            {
                closed = true;
                events.Clear();
                bytes = 0;
                foreach (var stream in streams.Values)
                {
                    stream.Completed = true;
                    stream.Signal();
                }
                streams.Clear();
            }
        }

        private SseItem<JsonRpcMessage?> Append(StreamState stream, SseItem<JsonRpcMessage?> item)
        {
            var size = item.Data is null ? 0 : SizeOf(item.Data);
            lock (gate)
            {
                var id = ++nextId;
                var stored = item with { EventId = string.Create(CultureInfo.InvariantCulture, $"{sessionId}:{id}") };
                if (closed)
                {
                    return stored;
                }
                events.AddLast(new Stored(id, stream, stored, size));
                bytes += size;
                while (events.Count > 1 && (events.Count > maxEvents || bytes > maxBytes))
                {
                    bytes -= events.First!.Value.Size;
                    events.RemoveFirst();
                }
                stream.Signal();
                return stored;
            }
        }

        private sealed record Stored(long Id, StreamState Stream, SseItem<JsonRpcMessage?> Item, int Size);

        private sealed class StreamState(string id, SseEventStreamMode mode)
        {
            /// <summary>What a reader waits on; made only when one asks, so that a stream nobody resumes allocates none.</summary>
            private TaskCompletionSource? changed;

            public string Id { get; } = id;

            public SseEventStreamMode Mode { get; set; } = mode;

            public bool Completed { get; set; }

            /// <summary>Completes when something is written, the mode changes or the stream ends. Call under the gate.</summary>
            public Task Changed => (changed ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

            /// <summary>Wakes the reader waiting on <see cref="Changed"/>, if any. Call under the gate.</summary>
            public void Signal()
            {
                var waiting = changed;
                changed = null;
                waiting?.TrySetResult();
            }
        }

        private sealed class Writer(SessionEvents session, StreamState stream) : ISseEventStreamWriter
        {
            public ValueTask SetModeAsync(SseEventStreamMode mode, CancellationToken cancellationToken = default)
            {
                lock (session.gate)
                {
                    stream.Mode = mode;
                    stream.Signal();
                }
                return ValueTask.CompletedTask;
            }

            public ValueTask<SseItem<JsonRpcMessage?>> WriteEventAsync(SseItem<JsonRpcMessage?> sseItem, CancellationToken cancellationToken = default) =>
                ValueTask.FromResult(sseItem.EventId is null ? session.Append(stream, sseItem) : sseItem);

            public ValueTask DisposeAsync()
            {
                lock (session.gate)
                {
                    stream.Completed = true;
                    stream.Signal();
                }
                return ValueTask.CompletedTask;
            }
        }

        private sealed class Reader(SessionEvents session, StreamState stream, long after) : ISseEventStreamReader
        {
            public string SessionId => session.SessionId;

            public string StreamId => stream.Id;

            public async IAsyncEnumerable<SseItem<JsonRpcMessage?>> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
            {
                var last = after;
                var delivered = false;
                while (true)
                {
                    List<Stored> batch;
                    Task changed;
                    bool done;
                    lock (session.gate)
                    {
                        batch = [.. session.events.Where(e => e.Stream == stream && e.Id > last)];
                        changed = stream.Changed;
                        // A polling stream answers with what it has, or waits for its next events when it has none yet.
                        done = stream.Completed || session.closed || (stream.Mode == SseEventStreamMode.Polling && (delivered || batch.Count > 0));
                    }
                    foreach (var stored in batch)
                    {
                        last = stored.Id;
                        yield return stored.Item;
                    }
                    delivered |= batch.Count > 0;
                    if (done)
                    {
                        yield break;
                    }
                    if (batch.Count == 0)
                    {
                        await changed.WaitAsync(cancellationToken);
                    }
                }
            }
        }
    }
}
