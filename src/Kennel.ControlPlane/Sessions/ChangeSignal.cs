using System.Collections.Concurrent;

namespace Kennel.ControlPlane.Sessions;

/// <summary>
/// In-process wake-ups: "session X changed" for waiters and followers, "there is new work or a cancel" for polling
/// workers, and the same two for agent runs and the run executor. A wake-up is only a hint to look at the store again. Replicas do not share these, so every waiter also
/// rechecks the store on a short interval; the signal just makes the common single-node case immediate.
/// </summary>
public sealed class ChangeSignal
{
    private const string QueueKey = "\0queue";
    private const string RunQueueKey = "\0runs";
    private const string OutboxKey = "\0outbox";
    private readonly ConcurrentDictionary<string, TaskCompletionSource> waiters = new(StringComparer.Ordinal);

    /// <summary>Take the task before reading the state it guards, so a change between the two is never missed.</summary>
    public Task SessionChanged(string sessionId) => Get(sessionId);

    public Task QueueChanged() => Get(QueueKey);

    public void PulseSession(string sessionId) => Pulse(sessionId);

    public void PulseQueue() => Pulse(QueueKey);

    /// <summary>"Run X changed": its status, or a step committed. Run ids never collide with session ids (their prefixes differ).</summary>
    public Task RunChanged(string runId) => Get(runId);

    public void PulseRun(string runId) => Pulse(runId);

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

    private Task Get(string key) =>
        waiters.GetOrAdd(key, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    private void Pulse(string key)
    {
        if (waiters.TryRemove(key, out var source))
        {
            source.TrySetResult();
        }
    }
}
