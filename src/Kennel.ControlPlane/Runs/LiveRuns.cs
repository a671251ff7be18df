using System.Collections.Concurrent;
using System.Threading.Channels;
using Kennel.Contracts.Conversations;

namespace Kennel.ControlPlane.Runs;

/// <summary>
/// The runs this process is executing: a way to stop each at once, and its progress for in-process subscribers (the SSE
/// answer of a send, MCP progress notifications). Progress is a hint for people watching; the store is the record.
/// </summary>
public sealed class LiveRuns
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> stoppers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ImmutableSubscribers> subscribers = new(StringComparer.Ordinal);

    internal void Started(string runId, CancellationTokenSource stopper) => stoppers[runId] = stopper;

    internal void Ended(string runId)
    {
        stoppers.TryRemove(runId, out _);
        if (subscribers.TryRemove(runId, out var ended))
        {
            foreach (var channel in ended.Channels)
            {
                channel.Writer.TryComplete();
            }
        }
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

    /// <summary>Progress of a run from now on. The reader completes when the run ends here; dispose to stop listening.</summary>
    public Subscription Subscribe(string runId)
    {
        var channel = Channel.CreateBounded<RunEvent>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest });
        subscribers.AddOrUpdate(runId, _ => new([channel]), (_, existing) => new([.. existing.Channels, channel]));
        return new Subscription(channel.Reader, () => subscribers.AddOrUpdate(runId, _ => new([]),
            (_, existing) => new([.. existing.Channels.Where(c => c != channel)])));
    }

    internal void Publish(RunEvent progress)
    {
        if (subscribers.TryGetValue(progress.RunId, out var current))
        {
            foreach (var channel in current.Channels)
            {
                channel.Writer.TryWrite(progress);
            }
        }
    }

    private sealed record ImmutableSubscribers(IReadOnlyList<Channel<RunEvent>> Channels);

    public sealed class Subscription(ChannelReader<RunEvent> reader, Action dispose) : IDisposable
    {
        public ChannelReader<RunEvent> Reader { get; } = reader;

        public void Dispose() => dispose();
    }
}
