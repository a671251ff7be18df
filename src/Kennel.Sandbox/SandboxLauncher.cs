using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Kennel.Sandbox.Network;
using Microsoft.Win32.SafeHandles;

namespace Kennel.Sandbox;

/// <summary>
/// Starts every sandbox process from one thread that lives as long as the process.
/// </summary>
/// <remarks>
/// bwrap's --die-with-parent sets PR_SET_PDEATHSIG, and Linux fires that signal when the <em>thread</em> that
/// forked the child exits, not the process. Process.Start forks on the calling thread, and thread-pool threads
/// retire when idle, so starting from them would SIGKILL long-running sandboxes at random. A dedicated thread
/// that never exits keeps the signal for what it is meant for: the worker process dying.
/// </remarks>
internal sealed partial class SandboxLauncher
{
    private const int CloseRangeCloexec = 1 << 2;

    private readonly BlockingCollection<Request> _requests = [];

    private SandboxLauncher()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "Kennel sandbox launcher" };
        thread.Start();
    }

    /// <summary>The process's one launcher: every sandbox must come from the same long-lived thread, whichever runtime starts it.</summary>
    public static SandboxLauncher Shared { get; } = new();

    /// <summary>Starts a process from the launcher thread.</summary>
    /// <param name="startInfo">What to start.</param>
    /// <param name="hostUid">From root: the uid (and gid, with no other groups) the child switches to before its exec (see <see cref="HostUidStart"/>); null keeps this process's.</param>
    /// <param name="inherited">Close-on-exec descriptors this one child inherits, at the same numbers; they are close-on-exec again once it has started.</param>
    public Task<Process> StartAsync(ProcessStartInfo startInfo, int? hostUid, params int[] inherited) => StartAsync(startInfo, hostUid, null, inherited);

    /// <summary>Starts a process from the launcher thread, inside <paramref name="network"/> when one is given.</summary>
    /// <param name="network">A network namespace the child is born in; the launcher thread enters it for the fork only.</param>
    public Task<Process> StartAsync(ProcessStartInfo startInfo, int? hostUid, SafeFileHandle? network, params int[] inherited)
    {
        // Continuations must not run on the launcher thread, or one caller's work would delay every other start.
        var request = new Request(startInfo, hostUid, inherited, network, new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously));
        _requests.Add(request);
        return request.Started.Task;
    }

    private void Run()
    {
        // The launcher's own namespace, to come back to after a fork in a sandbox's.
        using var home = NetworkNamespace.Open("/proc/thread-self/ns/net");
        foreach (var request in _requests.GetConsumingEnumerable())
        {
            try
            {
                MarkDescriptorsCloseOnExec();
                request.Started.SetResult(request.Network is null ? StartInheriting(request) : StartInNetwork(request, home));
            }
            catch (Exception e)
            {
                request.Started.SetException(e);
            }
        }
    }

    private static Process StartInNetwork(Request request, SafeFileHandle home)
    {
        NetworkNamespace.Enter(request.Network!);
        try
        {
            return StartInheriting(request);
        }
        finally
        {
            NetworkNamespace.Enter(home);
        }
    }

    // Only a fork from another thread in this short window could inherit them too; every sandbox start comes from here.
    private static Process StartInheriting(Request request)
    {
        foreach (var fd in request.Inherited)
        {
            LinuxDescriptors.SetCloseOnExec(fd, false);
        }

        try
        {
            return request.HostUid is { } uid ? HostUidStart.Start(request.StartInfo, uid) : Process.Start(request.StartInfo)!;
        }
        finally
        {
            foreach (var fd in request.Inherited)
            {
                LinuxDescriptors.SetCloseOnExec(fd, true);
            }
        }
    }

    // A worker started from a shell or a supervisor may have inherited descriptors without close-on-exec. Nothing
    // on the way (bwrap) closes them, so they would reach the workload: a pipe or socket of the
    // host's. .NET opens its own descriptors close-on-exec, so marking them all costs the worker nothing.
    private static void MarkDescriptorsCloseOnExec()
    {
        if (CloseRange(3, uint.MaxValue, CloseRangeCloexec) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "close_range(CLOSE_RANGE_CLOEXEC) failed; sandboxes need Linux 5.11 or later.");
        }
    }

    [LibraryImport("libc", EntryPoint = "close_range", SetLastError = true)]
    private static partial int CloseRange(uint first, uint last, int flags);

    private sealed record Request(ProcessStartInfo StartInfo, int? HostUid, int[] Inherited, SafeFileHandle? Network, TaskCompletionSource<Process> Started);
}
