using System.Collections.Concurrent;
using Kennel.Contracts.Workers;
using Kennel.Sandbox;
using Microsoft.Extensions.Logging;

namespace Kennel.Worker;

/// <summary>
/// A worker's main loop: long-poll the control plane (which is also the heartbeat), start what it assigns, pass on
/// cancel notices, and keep going through control-plane outages: running sessions carry on and report when it is back.
/// </summary>
public sealed partial class WorkerAgent(
    ControlPlaneClient client, ISandboxRuntime sandbox, WorkerAgentOptions options, TimeProvider time, ILogger<WorkerAgent> logger)
{
    private readonly ConcurrentDictionary<string, SessionRun> held = new(StringComparer.Ordinal);
    private readonly SkillCache? skills = options.SkillDirectory is { } directory ? new SkillCache(directory, client, logger) : null;
    private readonly SnapshotCache? snapshots = options.SnapshotDirectory is { } directory ? new SnapshotCache(directory, client, logger, options.SnapshotCacheBytes) : null;

    /// <summary>Sessions this worker is running or still reporting.</summary>
    public int Running => held.Count;

    public async Task RunAsync(CancellationToken stopping)
    {
        var sandboxReport = sandbox.Capabilities.Describe();
        LogStarted(logger, options.Capacity.Vcpus, options.Capacity.MemoryMb, options.Capacity.Slots, sandboxReport);
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            PollResponse response;
            try
            {
                response = await client.PollAsync(new PollRequest
                {
                    Held = [.. held.Keys],
                    Capacity = options.Capacity,
                    WaitMs = (int)options.PollWait.TotalMilliseconds,
                    Snapshots = snapshots?.Held(),
                }, stopping);
                failures = 0;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or ControlPlaneException { IsPermanent: false })
            {
                LogPollFailed(logger, exception.Message);
                await Task.Delay(Backoff.Delay(failures++), time, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }
            foreach (var id in response.Cancel)
            {
                if (held.TryGetValue(id, out var run))
                {
                    run.Cancel();
                }
            }
            foreach (var assignment in response.Assignments)
            {
                Start(assignment, stopping);
            }
        }
        await Task.WhenAll(held.Values.Select(run => run.Completion));
    }

    private void Start(SessionAssignment assignment, CancellationToken stopping)
    {
        var run = new SessionRun(assignment, client, sandbox, skills, snapshots, options, time, logger);
        if (!held.TryAdd(assignment.SessionId, run))
        {
            run.Dispose();
            return; // already running: a repeated assignment is harmless
        }
        run.Completion = Task.Run(async () =>
        {
            try
            {
                await run.RunAsync(stopping);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogRunFailed(logger, exception, assignment.SessionId);
            }
            finally
            {
                held.TryRemove(assignment.SessionId, out _);
                run.Dispose();
            }
        }, CancellationToken.None);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker started: capacity {Vcpus} vCPUs, {MemoryMb} MiB, {Slots} slots; sandbox {Sandbox}")]
    private static partial void LogStarted(ILogger logger, int vcpus, int memoryMb, int slots, string sandbox);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Poll failed ({Reason}); retrying")]
    private static partial void LogPollFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId} failed inside the worker")]
    private static partial void LogRunFailed(ILogger logger, Exception exception, string sessionId);
}
