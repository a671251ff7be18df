using System.Collections.Concurrent;

namespace Kennel.ControlPlane.Sessions;

/// <summary>
/// In-process wake-ups: "session X changed" for waiters and followers, "there is new work or a cancel" for polling
/// workers, and the same two for agent runs and the run executor. A wake-up is only a hint to look at the store again. Replicas do not share these, so every waiter also
/// rechecks the store on a short interval; the signal just makes the common single-node case immediate.
/// A waiter takes a task before its last look at the store and may never be pulsed again (the run or session had ended),
/// so a task older than <see cref="MaxAge"/> is dropped and completed (a waiter still holding it looks again, as it does
/// every recheck interval anyway): what this holds is bounded by the waits of the last seconds, not by every run there was.
/// </summary>
public sealed class ChangeSignal(TimeProvider time)
{
    /// <summary>
    /// How long a task is kept without a pulse: 20 recheck intervals, so a waiter still holding one wakes early at most
    /// once in that long, and what is held is bounded by the waits begun in the last 10-20 s.
    /// </summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(10);

    private const string QueueKey = "\0queue";
    private const string RunQueueKey = "\0runs";
    private const string OutboxKey = "\0outbox";
    private readonly ConcurrentDictionary<string, Waiter> waiters = new(StringComparer.Ordinal);
    private long nextSweep = time.GetTimestamp() + Ticks(MaxAge, time);

    /// <summary>On the system clock.</summary>
    public ChangeSignal()
        : this(TimeProvider.System)
    {
    }

    /// <summary>The tasks held now: for tests and diagnostics.</summary>
    public int Held => waiters.Count;

    /// <summary>Take the task before reading the state it guards, so a change between the two is never missed.</summary>
    public Task SessionChanged(string sessionId) => Get(sessionId);

    public Task QueueChanged() => Get(QueueKey);

    public void PulseSession(string sessionId) => Pulse(sessionId);

    public void PulseQueue() => Pulse(QueueKey);

    /// <summary>"Run X changed": its status, or a step committed. Run ids never collide with session ids (their prefixes differ).</summary>
    public Task RunChanged(string runId) => Get(runId);

    public void PulseRun(string runId) => Pulse(runId);

    /// <summary>"Channel message X changed": an attempt to send it was recorded. Its id (<c>chm_…</c>) collides with no other key.</summary>
    public Task MessageChanged(string messageId) => Get(messageId);

    public void PulseMessage(string messageId) => Pulse(messageId);

    /// <summary>"A run may be claimable": one was queued, or one ended and the next of its conversation may start.</summary>
    public Task RunQueueChanged() => Get(RunQueueKey);

    public void PulseRunQueue() => Pulse(RunQueueKey);

    /// <summary>"An outbound webhook may be due": one was enqueued and committed.</summary>
    public Task OutboxChanged() => Get(OutboxKey);

    public void PulseOutbox() => Pulse(OutboxKey);

    /// <summary>Waits for the task or the interval, whichever is first, without throwing on timeout.</summary>
    public static async Task WaitAsync(Task signal, TimeSpan interval, TimeProvider time, CancellationToken cancellationToken)
    {
        if (interval <= TimeSpan.Zero)
        {
            return;
        }
        await signal.WaitAsync(interval, time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private Task Get(string key)
    {
        var now = time.GetTimestamp();
        SweepIfDue(now);
        return waiters.GetOrAdd(key, static (_, at) => new Waiter(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), at), now)
            .Source.Task;
    }

    private void Pulse(string key)
    {
        if (waiters.TryRemove(key, out var waiter))
        {
            waiter.Source.TrySetResult();
        }
    }

    /// <summary>At most once a <see cref="MaxAge"/>, by one caller: drops and completes the tasks older than that.</summary>
    private void SweepIfDue(long now)
    {
        var due = Interlocked.Read(ref nextSweep);
        var maxAge = Ticks(MaxAge, time);
        if (now < due || Interlocked.CompareExchange(ref nextSweep, now + maxAge, due) != due)
        {
            return;
        }
        foreach (var entry in waiters)
        {
            if (now - entry.Value.At > maxAge && waiters.TryRemove(entry))
            {
                entry.Value.Source.TrySetResult();
            }
        }
    }

    private static long Ticks(TimeSpan span, TimeProvider time) => (long)(span.TotalSeconds * time.TimestampFrequency);

    private sealed record Waiter(TaskCompletionSource Source, long At);
}
