namespace Kennel.Sandbox;

/// <summary>
/// What one sandbox holds until it is gone: the read end of the pipe bwrap writes its JSON status to
/// (<c>--json-status-fd</c>), and its host uid.
/// </summary>
internal sealed class SandboxRelease(int statusFd, HostUids.Lease? uid)
{
    private int _released;

    /// <summary>
    /// Whether the sandbox was built and its command started. Asked once bwrap has exited, so everything it wrote is in
    /// the pipe. bwrap reports an <c>exit-code</c> only when its command was exec'd after the sandbox was set up; without
    /// one, bwrap failed (or was killed) before anything of the workload ran.
    /// </summary>
    public bool WorkloadStarted()
    {
        if (Volatile.Read(ref _released) != 0)
        {
            return false;
        }

        // A few short JSON lines: the child's pid, then the exit code.
        Span<byte> status = stackalloc byte[1024];
        var length = 0;
        int read;
        while (length < status.Length && (read = LinuxDescriptors.ReadNow(statusFd, status[length..])) > 0)
        {
            length += read;
        }

        return status[..length].IndexOf("\"exit-code\""u8) >= 0;
    }

    /// <summary>
    /// Closes the pipe and, when <paramref name="uidIsFree"/> (no process of the sandbox is left), gives the uid back.
    /// Only the first call counts. True when it held a uid and kept it from other sandboxes.
    /// </summary>
    public bool Release(bool uidIsFree)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return false;
        }

        LinuxDescriptors.CloseQuietly(statusFd);
        if (uidIsFree)
        {
            uid?.Release();
        }

        return !uidIsFree && uid is not null;
    }
}
