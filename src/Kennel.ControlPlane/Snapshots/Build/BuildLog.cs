using System.Text;

namespace Kennel.ControlPlane.Snapshots.Build;

/// <summary>
/// A build's log on its way to the store: lines are gathered and written every half second (or when much has gathered),
/// so a build that prints fast costs few writes, and a reader following the log sees it within a second.
/// </summary>
internal sealed class BuildLog(SnapshotStore store, string buildId, TimeProvider time) : IAsyncDisposable
{
    private const int FlushChars = 16 * 1024;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(500);

    private readonly StringBuilder pending = new();
    private readonly SemaphoreSlim writing = new(1, 1);
    private long lastFlush = time.GetTimestamp();

    public async Task WriteAsync(string line)
    {
        bool due;
        lock (pending)
        {
            pending.Append(line).Append('\n');
            due = pending.Length >= FlushChars || time.GetElapsedTime(lastFlush) >= FlushInterval;
        }
        if (due)
        {
            await FlushAsync();
        }
    }

    public async Task FlushAsync()
    {
        await writing.WaitAsync();
        try
        {
            string text;
            lock (pending)
            {
                text = pending.ToString();
                pending.Clear();
                lastFlush = time.GetTimestamp();
            }
            if (text.Length > 0)
            {
                await store.AppendLogAsync(buildId, text.Replace('\0', '\u001a'), CancellationToken.None);
            }
        }
        finally
        {
            writing.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await FlushAsync();
        writing.Dispose();
    }
}
