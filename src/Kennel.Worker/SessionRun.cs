using System.Diagnostics;
using Kennel.Contracts.Sessions;
using Kennel.Contracts.Workers;
using Kennel.Sandbox;
using Kennel.Sandbox.Network;
using Microsoft.Extensions.Logging;

namespace Kennel.Worker;

/// <summary>
/// Runs one assigned session: starts the sandbox, streams its output, enforces its timeout, obeys a cancel, and reports
/// the exit. Reports go out one at a time, in order, and are retried until the control plane has them.
/// </summary>
public sealed partial class SessionRun(
    SessionAssignment assignment, ControlPlaneClient client, ISandboxRuntime sandbox, SkillCache? skills, SnapshotCache? snapshots, WorkerAgentOptions options,
    TimeProvider time, ILogger logger)
    : IDisposable
{
    /// <summary>How long a stopping worker keeps trying to report the sessions it had to kill.</summary>
    private static readonly TimeSpan ShutdownReportGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A workload that ends sooner than this never sends a separate "started" report: its exit says it started. That
    /// keeps a round trip (HTTP and a store write) off the CPU while short workloads start, which is most of their life.
    /// </summary>
    private static readonly TimeSpan StartedReportDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>Most output per stream in one report, so a report stays far below the protocol's body limit.</summary>
    public const int MaxChunkBytes = 128 * 1024;

    private readonly CancellationTokenSource cancelled = new();
    private readonly OutputCapture stdout = new("stdout", assignment.OutputLimitBytes);
    private readonly OutputCapture stderr = new("stderr", assignment.OutputLimitBytes);
    private bool dropped;
    private EgressUsage? egress;

    public string SessionId => assignment.SessionId;

    /// <summary>Set by the agent when it starts the run; completes when the exit has been reported or dropped.</summary>
    public Task Completion { get; set; } = Task.CompletedTask;

    public void Dispose() => cancelled.Dispose();

    /// <summary>Asks the run to stop: the workload is killed and the session ends as <c>cancelled</c>.</summary>
    public void Cancel() => cancelled.Cancel();

    public async Task RunAsync(CancellationToken stopping)
    {
        // The skills stay held (safe from the cache's eviction) until the sandbox that mounts them is gone, however the run ends.
        using var mount = new SkillHold();
        var started = Stopwatch.GetTimestamp();
        ISandboxProcess? process = null;
        SessionExit exit;
        try
        {
            mount.Skills = await MountSkillsAsync(stopping);
            mount.Snapshot = await AcquireSnapshotAsync(stopping);
            process = await sandbox.StartAsync(Spec(mount.Skills.Skills) with { RootFilesystem = mount.Snapshot?.Root }, stopping);
            exit = await SuperviseAsync(process, started, stopping);
        }
        catch (SandboxException failure)
        {
            exit = Exit(SessionStatus.Failed, null, new SessionError(failure.Code, failure.Message), started, 0);
        }
        // A stopping worker still says how its sessions ended, within a grace period, rather than leaving them to
        // look running until a lease runs out.
        using var grace = new CancellationTokenSource(ShutdownReportGrace, time);
        try
        {
            await SendOutputAsync(exit, stopping.IsCancellationRequested ? grace.Token : stopping);
        }
        finally
        {
            // Clean-up (cgroup removal) comes after the report, off the path a waiting user sees.
            if (process is not null)
            {
                await process.DisposeAsync();
            }
        }
    }

    private async Task<SkillCache.SkillMount> MountSkillsAsync(CancellationToken stopping)
    {
        var wanted = assignment.Skills ?? [];
        if (skills is null)
        {
            return wanted.Count == 0 ? SkillCache.SkillMount.None
                : throw new SandboxException("skill_unavailable", $"The skill '{wanted[0].Name}' cannot be mounted: this worker keeps no skill cache.");
        }
        return await skills.MountAsync(wanted, stopping);
    }

    private async Task<SnapshotCache.SnapshotLease?> AcquireSnapshotAsync(CancellationToken stopping)
    {
        if (assignment.SnapshotDigest is not { } digest)
        {
            return null;
        }
        return snapshots is null
            ? throw new SandboxException("snapshot_unavailable", $"The snapshot '{assignment.Snapshot}' cannot be had: this worker keeps no snapshot cache.")
            : await snapshots.AcquireAsync(assignment.Snapshot, digest, stopping);
    }

    /// <summary>The run's mounted skills and snapshot, once it has them: released when the run ends.</summary>
    private sealed class SkillHold : IDisposable
    {
        public SkillCache.SkillMount? Skills { get; set; }

        public SnapshotCache.SnapshotLease? Snapshot { get; set; }

        public void Dispose()
        {
            Skills?.Dispose();
            Snapshot?.Dispose();
        }
    }

    private SandboxSpec Spec(IReadOnlyList<SandboxSkill> mounted) => new()
    {
        SessionId = assignment.SessionId,
        Snapshot = assignment.Snapshot,
        Argv = assignment.Argv,
        Env = assignment.Env,
        Vcpus = assignment.Vcpus,
        MemoryMb = assignment.MemoryMb,
        Files = [.. (assignment.Files ?? []).Select(f => new SandboxFile(f.Path, Convert.FromBase64String(f.ContentBase64)))],
        Skills = mounted,
        Network = Network(assignment.Network),
    };

    // The control plane checked it; checked again here, since the worker enforces it.
    private static EgressPolicy? Network(SessionNetwork? network)
    {
        try
        {
            return EgressPolicy.Parse(network?.Mode, network?.Allow, network?.ByteCap);
        }
        catch (EgressPolicyException e)
        {
            throw new SandboxException("invalid_spec", $"{e.Field}: {e.Message}");
        }
    }

    private async Task<SessionExit> SuperviseAsync(ISandboxProcess process, long started, CancellationToken stopping)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(assignment.TimeoutMs), time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancelled.Token, stopping);
        using var killOnStop = stop.Token.Register(() => _ = process.KillAsync());

        var pumps = Task.WhenAll(stdout.PumpAsync(process.StandardOutput, CancellationToken.None), stderr.PumpAsync(process.StandardError, CancellationToken.None));
        var streaming = StreamOutputAsync(pumps, started, stopping);
        var result = await process.WaitForExitAsync(CancellationToken.None);
        await pumps;
        await streaming;

        egress = result.Egress;
        if (cancelled.IsCancellationRequested)
        {
            return Exit(SessionStatus.Cancelled, null, null, started, result.CpuSeconds);
        }
        if (stopping.IsCancellationRequested)
        {
            return Exit(SessionStatus.Failed, null, new SessionError("worker_shutdown", "The worker shut down and killed this session's workload."),
                started, result.CpuSeconds);
        }
        if (timeout.IsCancellationRequested)
        {
            return Exit(SessionStatus.TimedOut, null, new SessionError("timeout", $"The session ran past its timeout of {assignment.TimeoutMs} ms and was killed."),
                started, result.CpuSeconds);
        }
        if (!result.Started)
        {
            // bwrap could not build the sandbox, so nothing of the workload ran: what it printed is bwrap's reason.
            var reason = stderr.Beginning.Trim();
            LogSandboxStartFailed(logger, assignment.SessionId, result.ExitCode, reason);
            return Exit(SessionStatus.Failed, null, new SessionError("sandbox_start_failed",
                $"The sandbox could not be created (exit {result.ExitCode}): {(reason.Length > 0 ? reason : "no reason given")}"), started, result.CpuSeconds);
        }
        if (result.OutOfMemory)
        {
            // An exit code of 0 says the workload succeeded, which a session that lost a process to the memory limit did
            // not: the code is kept only when it says the session failed (137 when the kill took the main process).
            return Exit(SessionStatus.Failed, result.ExitCode == 0 ? null : result.ExitCode,
                new SessionError("out_of_memory", $"A process of the workload exceeded the session's memory limit of {assignment.MemoryMb} MiB and was killed."),
                started, result.CpuSeconds);
        }
        return result.ExitCode == 0
            ? Exit(SessionStatus.Succeeded, 0, null, started, result.CpuSeconds)
            : Exit(SessionStatus.Failed, result.ExitCode, new SessionError("nonzero_exit", $"The workload exited with code {result.ExitCode}."), started, result.CpuSeconds);
    }

    /// <summary>Says the session started (unless it is over first), then sends live output on an interval until the workload's pipes close.</summary>
    private async Task StreamOutputAsync(Task pumps, long started, CancellationToken stopping)
    {
        await Task.WhenAny(pumps, Task.Delay(StartedReportDelay, time, stopping));
        if (pumps.IsCompleted || stopping.IsCancellationRequested)
        {
            return;
        }
        await SendAsync(new SessionReport { Started = true, RunningForMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds }, stopping);
        while (!dropped)
        {
            await Task.WhenAny(pumps, Task.Delay(options.OutputFlushInterval, time, stopping));
            if (pumps.IsCompleted || stopping.IsCancellationRequested)
            {
                return; // what is left goes with the exit report
            }
            await SendOutputAsync(null, stopping);
        }
    }

    /// <summary>
    /// Sends everything read so far in reports of bounded size, the <paramref name="exit"/> (if any) riding with the
    /// last of them. Live output with nothing new sends nothing.
    /// </summary>
    private async Task SendOutputAsync(SessionExit? exit, CancellationToken token)
    {
        do
        {
            var output = TakeOutput();
            var last = !stdout.HasPending && !stderr.HasPending;
            if (output.Count > 0 || (last && exit is not null))
            {
                await SendAsync(new SessionReport { Output = output, Exit = last ? exit : null }, token);
            }
        }
        while (!dropped && (stdout.HasPending || stderr.HasPending));
    }

    private List<OutputChunk> TakeOutput()
    {
        var chunks = new List<OutputChunk>(2);
        if (stdout.Take(MaxChunkBytes) is { } o)
        {
            chunks.Add(o);
        }
        if (stderr.Take(MaxChunkBytes) is { } e)
        {
            chunks.Add(e);
        }
        return chunks;
    }

    private async Task SendAsync(SessionReport report, CancellationToken stopping)
    {
        for (var attempt = 0; !dropped; attempt++)
        {
            try
            {
                var response = await client.ReportAsync(assignment.SessionId, report, stopping);
                if (response is null)
                {
                    // The control plane has settled this session already (cancelled, or written off as lost).
                    dropped = true;
                    cancelled.Cancel();
                    LogDropped(logger, assignment.SessionId);
                }
                else if (response.Cancel)
                {
                    cancelled.Cancel();
                }
                return;
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or ControlPlaneException { IsPermanent: false }
                && !stopping.IsCancellationRequested)
            {
                LogReportRetry(logger, assignment.SessionId, exception.Message);
                await Task.Delay(Backoff.Delay(attempt), time, stopping);
            }
        }
    }

    private SessionExit Exit(SessionStatus status, int? exitCode, SessionError? error, long started, double cpuSeconds) => new()
    {
        Status = status,
        ExitCode = exitCode,
        Error = error,
        WallSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds,
        CpuSeconds = cpuSeconds,
        Egress = egress is { } usage ? new SessionEgress
        {
            BytesIn = usage.BytesIn,
            BytesOut = usage.BytesOut,
            Refused = usage.Refused,
            RefusedDestinations = [.. usage.Refusals.Select(r => new RefusedDestination(r.Host, r.Port, r.Rule))],
        } : null,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId}: the sandbox could not be created (exit {ExitCode}): {Reason}")]
    private static partial void LogSandboxStartFailed(ILogger logger, string sessionId, int exitCode, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} is no longer live on this worker; dropped it")]
    private static partial void LogDropped(ILogger logger, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Report for session {SessionId} failed ({Reason}); retrying")]
    private static partial void LogReportRetry(ILogger logger, string sessionId, string reason);
}
