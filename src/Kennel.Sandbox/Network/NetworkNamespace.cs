using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Kennel.Sandbox.Network;

/// <summary>
/// Network namespaces by descriptor. A thread's network namespace is its own (setns(2) with CLONE_NEWNET changes only
/// the calling thread), and a socket or child process keeps the namespace of the thread that made it: that is how the
/// proxy listens inside the egress namespace and each sandbox is born inside its own, with no helper process.
/// </summary>
internal static partial class NetworkNamespace
{
    private const int CloneNewNet = 0x40000000;
    private const int ReadOnlyCloseOnExec = 0x80000; // O_RDONLY | O_CLOEXEC

    /// <summary>The namespace behind a path such as <c>/run/netns/NAME</c> or <c>/proc/thread-self/ns/net</c>.</summary>
    public static SafeFileHandle Open(string path)
    {
        var fd = OpenFile(path, ReadOnlyCloseOnExec);
        return fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true)
            : throw new Win32Exception(Marshal.GetLastPInvokeError(), $"Cannot open the network namespace {path}.");
    }

    /// <summary>Moves the calling thread into <paramref name="network"/>.</summary>
    public static void Enter(SafeFileHandle network)
    {
        if (SetNs(network, CloneNewNet) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "setns(CLONE_NEWNET) failed; entering a network namespace needs root.");
        }
    }

    /// <summary>Runs <paramref name="action"/> on a short-lived thread inside <paramref name="network"/>.</summary>
    public static T RunIn<T>(SafeFileHandle network, Func<T> action)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Enter(network);
                result = action();
            }
            catch (Exception e) when (e is Win32Exception or IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
            {
                failure = e;
            }
        })
        { IsBackground = true, Name = "Kennel network namespace" };
        thread.Start();
        thread.Join();
        return failure is null ? result : throw new IOException(failure.Message, failure);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenFile(string path, int flags);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(SafeFileHandle fd, int type);
}
