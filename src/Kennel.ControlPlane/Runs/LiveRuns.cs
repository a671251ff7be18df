using System.Collections.Concurrent;
using System.Threading.Channels;
using Kennel.Contracts.Conversations;

namespace Kennel.ControlPlane.Runs;

/// <summary>
/// The runs this process is executing: a way to stop each at once, and its progress for in-process subscribers (the SSE
/// answer of a send, MCP progress notifications). Progress is a hint for people watching; the store is the record.
/// A subscriber gets the run's progress from its start, whenever it subscribes while the run executes here: a send
/// that starts a run and then follows it must not lose what the run did in between (the first text, a tool's start).
/// </summary>
public sealed class LiveRuns
{
    /// <summary>Progress kept per executing run, and per subscriber; beyond it the oldest is dropped.</summary>
    public const int Kept = 1024;

    private readonly ConcurrentDictionary<string, CancellationTokenSource> stoppers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Feed> feeds = new(StringComparer.Ordinal);

    internal void Started(string runId, CancellationTokenSource stopper)
    {
        stoppers[runId] = stopper;
        Change(runId, create: true, feed => feed.Started = true);
    }

    internal void Ended(string runId)
    {
        stoppers.TryRemove(runId, out _);
        Change(runId, create: false, feed =>
        {
            feed.Ended = true;
            foreach (var channel in feed.Channels)
            {
                channel.Writer.TryComplete();
            }
            feed.Channels.Clear();
        });
    }

    /// <summary>Stops the run now if this process executes it; false when it does not.</summary>
    public bool TryStop(string runId)
    {
        if (!stoppers.TryGetValue(runId, out var stopper))
        {
            return false;
        }
        try
        {
            stopper.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It ended meanwhile.
        }
        return true;
    }

    public bool IsExecuting(string runId) => stoppers.ContainsKey(runId);

    internal IEnumerable<string> Executing => stoppers.Keys;

    /// <summary>How many runs this process holds progress or subscribers for (executing, or followed).</summary>
    internal int Held => feeds.Count;

    /// <summary>
    /// The run's progress: what it published so far while executing here, then what comes. The reader completes when the
    /// run ends here; dispose to stop listening.
    /// </summary>
    public Subscription Subscribe(string runId)
    {
        var channel = Channel.CreateBounded<RunEvent>(new BoundedChannelOptions(Kept) { FullMode = BoundedChannelFullMode.DropOldest });
        Change(runId, create: true, feed =>
        {
            foreach (var earlier in feed.History)
            {
                channel.Writer.TryWrite(earlier);
            }
            feed.Channels.Add(channel);
        });
        return new Subscription(channel.Reader, () => Change(runId, create: false, feed => feed.Channels.Remove(channel)));
    }

    // An ended run's feed is removed under its lock (see Change), so neither a publish nor a subscriber ever meets one.
    internal void Publish(RunEvent progress) => Change(progress.RunId, create: false, feed =>
    {
        feed.History.Enqueue(progress);
        if (feed.History.Count > Kept)
        {
            feed.History.Dequeue();
        }
        foreach (var channel in feed.Channels)
        {
            channel.Writer.TryWrite(progress);
        }
    });

    // Every change to a run's feed happens under its lock; a feed nobody needs any more (the run ended or never ran
    // here, and no one listens) is removed, so following many runs leaves nothing behind.
    private void Change(string runId, bool create, Action<Feed> change)
    {
        while (true)
        {
            var feed = create ? feeds.GetOrAdd(runId, _ => new Feed()) : feeds.GetValueOrDefault(runId);
            if (feed is null)
            {
                return;
            }
            lock (feed)
            {
                if (feed.Removed)
                {
                    continue; // removed between the lookup and the lock: take the current one
                }
                change(feed);
                if (feed.Channels.Count == 0 && (feed.Ended || !feed.Started))
                {
                    feed.Removed = true;
                    feeds.TryRemove(new KeyValuePair<string, Feed>(runId, feed));
                }
                return;
            }
        }
    }

    private sealed class Feed
    {
        public Queue<RunEvent> History { get; } = new();

        public List<Channel<RunEvent>> Channels { get; } = [];

        public bool Started { get; set; }

        public bool Ended { get; set; }

        public bool Removed { get; set; }
    }

    public sealed class Subscription(ChannelReader<RunEvent> reader, Action dispose) : IDisposable
    {
        public ChannelReader<RunEvent> Reader { get; } = reader;

        public void Dispose() => dispose();
    }
}
