using System.ComponentModel;
using System.Diagnostics;
using Kennel.Sandbox.Cgroups;
using Microsoft.Extensions.Logging;

namespace Kennel.Sandbox;

/// <summary>
/// A bwrap started before its session, already inside its own cgroups, blocked reading the rest of its arguments (see
/// <see cref="BubblewrapCommand"/>). Moving a process between cgroups can wait for an RCU grace period, about 10 ms on
/// a quiet machine, so doing that and bwrap's exec ahead of time takes them off the path of a session's start.
/// </summary>
internal sealed class StandbySandbox
{
    private readonly SessionCgroup? _cgroup;

    private StandbySandbox(Process process, SessionCgroup? cgroup)
    {
        Process = process;
        _cgroup = cgroup;
    }

    public Process Process { get; }

    /// <summary>Creates the cgroups, starts bwrap from the launcher thread and moves it into them while it waits.</summary>
    public static async Task<StandbySandbox> StartAsync(BubblewrapCommand command, CgroupLayout layout, int pidsLimit, TimeProvider time, ILogger logger)
    {
        SessionCgroup? cgroup = null;
        if (!layout.IsEmpty)
        {
            try
            {
                cgroup = SessionCgroup.Create(layout, $"sandbox-{Guid.NewGuid():N}", pidsLimit);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SandboxException("sandbox_start_failed", $"Cannot create a sandbox's cgroups: {e.Message}");
            }
        }

        Process process;
        try
        {
            process = await SandboxLauncher.Shared.StartAsync(command.StandbyStartInfo());
        }
        catch (Exception e) when (e is Win32Exception or IOException or UnauthorizedAccessException)
        {
            if (cgroup is not null)
            {
                await cgroup.RemoveAsync(time, logger);
            }

            throw new SandboxException("sandbox_start_failed", $"Cannot start bwrap: {e.Message}");
        }

        var standby = new StandbySandbox(process, cgroup);
        try
        {
            // bwrap has forked nothing while it waits for its arguments, so its whole tree will be born in here. The
            // move blocks for the kernel's grace period, so it gets a thread of its own rather than one of the pool's.
            if (cgroup is not null)
            {
                await Task.Factory.StartNew(() => cgroup.Join(process.Id), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await standby.DiscardAsync(time, logger);
            throw new CgroupJoinException($"Cannot move a sandbox into its cgroups: {e.Message}");
        }

        return standby;
    }

    /// <summary>
    /// Makes it the session's: sets its limits, hands bwrap the rest of its arguments and closes its stdin, which the
    /// workload then reads as end-of-file. Throws <see cref="IOException"/> when the standby died while it waited.
    /// </summary>
    public async Task<BubblewrapProcess> BeginAsync(CgroupLimits limits, byte[] arguments, TimeProvider time, ILogger logger)
    {
        try
        {
            _cgroup?.Apply(limits);
            var stdin = Process.StandardInput.BaseStream;
            await stdin.WriteAsync(arguments);
            await stdin.FlushAsync();
            Process.StandardInput.Close();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await DiscardAsync(time, logger);
            throw new IOException(e.Message, e);
        }

        return new BubblewrapProcess(Process, _cgroup, time, logger);
    }

    /// <summary>Kills it (nothing of a workload runs in it yet), reaps it and removes its cgroups.</summary>
    public async Task DiscardAsync(TimeProvider time, ILogger logger)
    {
        using (Process)
        {
            try
            {
                Process.Kill();
            }
            catch (InvalidOperationException)
            {
                // It has exited already.
            }

            await Process.WaitForExitAsync();
        }

        if (_cgroup is not null)
        {
            _cgroup.Kill();
            await _cgroup.RemoveAsync(time, logger);
        }
    }
}

/// <summary>A started sandbox could not be moved into its cgroups, so it was killed before anything of it ran.</summary>
internal sealed class CgroupJoinException(string message) : Exception(message);
