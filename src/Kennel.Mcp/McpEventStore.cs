using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

// Event stores belong to stateful Streamable HTTP, which this endpoint is (it speaks 2025-11-25 with sessions).
#pragma warning disable MCP9006

namespace Kennel.Mcp;

/// <summary>
/// The events of one session's SSE streams, kept in memory so a client that lost a stream can resume it with
/// <c>Last-Event-ID</c> (SEP-1699). Bounded by <see cref="McpHttpOptions.MaxStoredEventsPerSession"/> and
/// <see cref="McpHttpOptions.MaxStoredEventBytesPerSession"/>, oldest dropped first; it goes with the session.
/// Event ids are the session's sequence numbers, unique within it (a GET only ever reads its own session's store).
/// </summary>
public sealed class McpEventStore(int maxEvents, long maxBytes) : ISseEventStreamStore
{
    private readonly Lock gate = new();
    private readonly LinkedList<Stored> events = new();
    private readonly Dictionary<string, StreamState> streams = new(StringComparer.Ordinal);
    private long nextId;
    private long bytes;
    private bool closed;

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

    public ValueTask<ISseEventStreamWriter> CreateStreamAsync(SseEventStreamOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (gate)
        {
            var state = new StreamState(options.StreamId, options.Mode);
            streams[options.StreamId] = state;
            return ValueTask.FromResult<ISseEventStreamWriter>(new Writer(this, state));
        }
    }

    public ValueTask<ISseEventStreamReader?> GetStreamReaderAsync(string lastEventId, CancellationToken cancellationToken = default)
    {
        if (!long.TryParse(lastEventId, NumberStyles.None, CultureInfo.InvariantCulture, out var after))
        {
            return ValueTask.FromResult<ISseEventStreamReader?>(null);
        }
        lock (gate)
        {
            var stream = events.FirstOrDefault(e => e.Id == after)?.Stream;
            return ValueTask.FromResult<ISseEventStreamReader?>(stream is null ? null : new Reader(this, stream, after));
        }
    }

    /// <summary>Ends every reader; later writes are dropped.</summary>
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
        var size = item.Data is null ? 0 : JsonSerializer.SerializeToUtf8Bytes(item.Data, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage))).Length;
        lock (gate)
        {
            var id = ++nextId;
            var stored = item with { EventId = id.ToString(CultureInfo.InvariantCulture) };
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
        private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Id { get; } = id;

        public SseEventStreamMode Mode { get; set; } = mode;

        public bool Completed { get; set; }

        /// <summary>Completes when something is written, the mode changes or the stream ends. Call under the gate.</summary>
        public Task Changed => changed.Task;

        public void Signal() => Interlocked.Exchange(ref changed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private sealed class Writer(McpEventStore store, StreamState stream) : ISseEventStreamWriter
    {
        public ValueTask SetModeAsync(SseEventStreamMode mode, CancellationToken cancellationToken = default)
        {
            lock (store.gate)
            {
                stream.Mode = mode;
                stream.Signal();
            }
            return ValueTask.CompletedTask;
        }

        public ValueTask<SseItem<JsonRpcMessage?>> WriteEventAsync(SseItem<JsonRpcMessage?> sseItem, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(sseItem.EventId is null ? store.Append(stream, sseItem) : sseItem);

        public ValueTask DisposeAsync()
        {
            lock (store.gate)
            {
                stream.Completed = true;
                stream.Signal();
            }
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Reader(McpEventStore store, StreamState stream, long after) : ISseEventStreamReader
    {
        public string SessionId => string.Empty;

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
                lock (store.gate)
                {
                    batch = [.. store.events.Where(e => e.Stream == stream && e.Id > last)];
                    changed = stream.Changed;
                    // A polling stream answers with what it has, or waits for its next events when it has none yet.
                    done = stream.Completed || store.closed || (stream.Mode == SseEventStreamMode.Polling && (delivered || batch.Count > 0));
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
