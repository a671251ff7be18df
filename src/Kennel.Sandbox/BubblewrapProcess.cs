using System.Diagnostics;
using Kennel.Sandbox.Cgroups;
using Microsoft.Extensions.Logging;

namespace Kennel.Sandbox;

/// <summary>A workload running under bubblewrap, its tree held by the session's cgroups.</summary>
internal sealed partial class BubblewrapProcess : ISandboxProcess
{
    private static readonly TimeSpan EmptyPollInterval = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan EmptyTimeout = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly SessionCgroup? _cgroup;
    private readonly SandboxRelease _release;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<SandboxExit> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _lifetime;
    private bool _killed;

    public BubblewrapProcess(Process process, SessionCgroup? cgroup, SandboxRelease release, TimeProvider timeProvider, ILogger logger)
    {
        _process = process;
        _cgroup = cgroup;
        _release = release;
        _timeProvider = timeProvider;
        _logger = logger;
        _lifetime = RunLifetimeAsync();
    }

    public Stream StandardOutput => _process.StandardOutput.BaseStream;

    public Stream StandardError => _process.StandardError.BaseStream;

    public Task<SandboxExit> WaitForExitAsync(CancellationToken cancellationToken) => _exit.Task.WaitAsync(cancellationToken);

    public async Task KillAsync()
    {
        if (!_exit.Task.IsCompleted)
        {
            Volatile.Write(ref _killed, true);
            if (_cgroup is not null)
            {
                _cgroup.Kill();
            }

            // Without a cgroup that kills trees, killing bwrap is enough: its pid namespace dies with it.
            if (_cgroup is null || !_cgroup.CanKillTree)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        await _exit.Task;
    }

    /// <summary>Kills the workload if it still runs, and returns once its cgroups are removed.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
            await _lifetime;
        }
        finally
        {
            _process.Dispose();
        }
    }

    // Reports the exit as soon as bwrap is gone, then removes the cgroups: the caller can report the session while
    // the kernel releases them.
    private async Task RunLifetimeAsync()
    {
        var uidIsFree = false;
        try
        {
            await _process.WaitForExitAsync(CancellationToken.None);

            // .NET already reports a signal as 128 + its number, and bwrap passes the workload's status through.
            var exitCode = _process.ExitCode;
            var started = _release.WorkloadStarted();
            if (_cgroup is null)
            {
                // The kernel kills whatever is left in the pid namespace once its init (bwrap's) is gone.
                uidIsFree = true;
                _exit.SetResult(new SandboxExit(exitCode, OutOfMemory: false, CpuSeconds: 0, started));
                return;
            }

            // When bwrap exits by itself (a status below 128), everything in its pid namespace has exited before it:
            // the namespace's init waits for them all, and bwrap for the init. The cgroups can still read as populated
            // for a millisecond or so while the kernel releases the tasks, which charges no CPU, so that exit is
            // reported at once. A bwrap that was killed (ours, or any signal status) may die before the tasks of its
            // namespace, so then the exit waits until the cgroups are empty.
            var settled = exitCode < 128 && !Volatile.Read(ref _killed);
            if (!settled)
            {
                await WaitUntilEmptyAsync(_cgroup);
            }

            // Read before removal: the counters go with the cgroup.
            _exit.SetResult(new SandboxExit(exitCode, _cgroup.OutOfMemory(), _cgroup.CpuSeconds(), started));
            if (settled)
            {
                await WaitUntilEmptyAsync(_cgroup);
            }

            // Removed only when empty, which proves no process of the sandbox holds its uid any more.
            uidIsFree = await _cgroup.RemoveAsync(_timeProvider, _logger);
        }
        catch (Exception e) when (!_exit.Task.IsCompleted)
        {
            // Whoever waits for the exit hears of the failure; nobody else would.
            _exit.SetException(e);
        }
        finally
        {
            // A uid whose processes may still live is never handed to another sandbox.
            if (_release.Release(uidIsFree))
            {
                LogUidWithheld(_logger);
            }
        }
    }

    // The cgroups can only be removed once the kernel has released every task in them, which it finishes after bwrap
    // exits.
    private async Task WaitUntilEmptyAsync(SessionCgroup cgroup)
    {
        var started = _timeProvider.GetTimestamp();
        while (cgroup.IsPopulated())
        {
            if (_timeProvider.GetElapsedTime(started) > EmptyTimeout)
            {
                LogNotEmpty(_logger, EmptyTimeout.TotalSeconds);
                return;
            }

            cgroup.Kill();
            await Task.Delay(EmptyPollInterval, _timeProvider);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A sandbox's processes may outlive it, so its host uid will not be given to another sandbox")]
    private static partial void LogUidWithheld(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox processes were still alive {Seconds} s after the workload exited")]
    private static partial void LogNotEmpty(ILogger logger, double seconds);
}
