using System.ComponentModel;
using System.Diagnostics;
using Kennel.Sandbox.Cgroups;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Kennel.Sandbox;

/// <summary>
/// A bwrap started before its session, already inside its own cgroups and under its own host uid, blocked reading the
/// rest of its arguments (see <see cref="BubblewrapCommand"/>). Moving a process between cgroups can wait for an RCU
/// grace period, about 10 ms on a quiet machine, so doing that and bwrap's exec ahead of time takes them off the path of
/// a session's start.
/// </summary>
internal sealed class StandbySandbox
{
    private readonly SessionCgroup? _cgroup;
    private readonly HostUids.Lease? _uid;
    private readonly SandboxRelease _release;

    private StandbySandbox(Process process, SessionCgroup? cgroup, HostUids.Lease? uid, int status)
    {
        Process = process;
        _cgroup = cgroup;
        _uid = uid;
        _release = new SandboxRelease(status, uid);
    }

    public Process Process { get; }

    /// <summary>The host uid its workload will run as, or null for this process's own.</summary>
    public int? HostUid => _uid?.Uid;

    /// <summary>Creates the cgroups, starts bwrap from the launcher thread and moves it into them while it waits.</summary>
    /// <param name="network">For a session with network, the namespace it is started in; null for a new empty one.</param>
    public static async Task<StandbySandbox> StartAsync(SandboxSetup setup, TimeProvider time, ILogger logger, SafeFileHandle? network = null)
    {
        var uid = setup.Uids?.Take();
        SessionCgroup? cgroup = null;
        if (!setup.Cgroups.IsEmpty)
        {
            try
            {
                cgroup = SessionCgroup.Create(setup.Cgroups, $"sandbox-{Guid.NewGuid():N}", setup.PidsLimit);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                uid?.Release();
                throw new SandboxException("sandbox_start_failed", $"Cannot create a sandbox's cgroups: {e.Message}");
            }
        }

        Process process;
        var status = (Read: -1, Write: -1);
        var seccomp = -1;
        try
        {
            status = LinuxDescriptors.Pipe();
            seccomp = LinuxDescriptors.MemoryFile("kennel-seccomp", setup.SeccompProgram);
            var setpriv = setup.Command.SwitchesUidWithSetpriv;
            process = await SandboxLauncher.Shared.StartAsync(setup.Command.StandbyStartInfo(setpriv ? uid?.Uid : null, seccomp, status.Write, network is not null),
                setpriv ? null : uid?.Uid, network, seccomp, status.Write);
        }
        catch (Exception e) when (e is Win32Exception or IOException or UnauthorizedAccessException)
        {
            LinuxDescriptors.CloseQuietly(status.Read);
            if (cgroup is not null)
            {
                await cgroup.RemoveAsync(time, logger);
            }

            uid?.Release();
            throw new SandboxException("sandbox_start_failed", $"Cannot start bwrap: {e.Message}");
        }
        finally
        {
            // bwrap holds its own copies now; the read end stays here until the sandbox has exited.
            LinuxDescriptors.CloseQuietly(seccomp);
            LinuxDescriptors.CloseQuietly(status.Write);
        }

        var standby = new StandbySandbox(process, cgroup, uid, status.Read);
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

        return new BubblewrapProcess(Process, _cgroup, _release, time, logger);
    }

    /// <summary>Kills it (nothing of a workload runs in it yet), reaps it, removes its cgroups and gives back its uid.</summary>
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

        var emptied = true;
        if (_cgroup is not null)
        {
            _cgroup.Kill();
            emptied = await _cgroup.RemoveAsync(time, logger);
        }

        _ = _release.Release(uidIsFree: emptied);
    }
}

/// <summary>A started sandbox could not be moved into its cgroups, so it was killed before anything of it ran.</summary>
internal sealed class CgroupJoinException(string message) : Exception(message);
