using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Kennel.Sandbox;

/// <summary>
/// The host uids a root worker runs sandboxes as: each live sandbox (a standby or a session) holds one of its own, so
/// the kernel's per-uid limits (inotify instances and watches, user namespaces, keys, processes by uid, locked memory)
/// are each session's alone, and no session can signal, trace or read another's processes. A uid goes back once every
/// process of its sandbox has gone. Several workers on one host may share a range: each holds an exclusive lock on a
/// file per uid it hands out (<c>flock</c>, which the kernel drops if the worker dies), and skips uids another holds.
/// </summary>
internal sealed partial class HostUids
{
    private const int LockExclusive = 2; // LOCK_EX
    private const int LockNonBlocking = 4; // LOCK_NB
    private const int OpenReadWrite = 2; // O_RDWR
    private const int OpenCreate = 0x40; // O_CREAT
    private const int OpenCloseOnExec = 0x80000; // O_CLOEXEC
    private const int OwnerReadWrite = 0x180; // 0600

    private readonly Lock _lock = new();

    // The uids this worker's live sandboxes hold: a few, where a set of the free ones would hold the whole range (65,536
    // nodes, 2.5 MB, by default).
    private readonly HashSet<int> _held = [];
    private readonly string _lockDirectory;

    /// <param name="first">The first uid of the range.</param>
    /// <param name="count">How many uids, from <paramref name="first"/>.</param>
    /// <param name="lockDirectory">Root-owned, where the per-uid lock files go; shared by every worker of the host.</param>
    public HostUids(int first, int count, string lockDirectory)
    {
        First = first;
        Count = count;
        _lockDirectory = lockDirectory;
        Directory.CreateDirectory(lockDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public int First { get; }

    public int Count { get; }

    /// <summary>The lowest uid no live sandbox of any worker holds. Throws <see cref="SandboxException"/> when all are held.</summary>
    public Lease Take()
    {
        lock (_lock)
        {
            // Lowest first keeps the lock files as few as the sandboxes that ever ran at once.
            for (var uid = First; uid < First + Count; uid++)
            {
                if (!_held.Contains(uid) && TryLock(uid) is { } held)
                {
                    _held.Add(uid);
                    return new Lease(this, uid, held);
                }
            }
        }

        throw new SandboxException("sandbox_start_failed",
            $"All {Count} sandbox host uids ({First}-{First + Count - 1}) are in use; give the worker a larger range (KENNEL_SANDBOX_UIDS) or fewer slots.");
    }

    // Opened with open(2) rather than File.OpenHandle, which takes an flock of its own on Unix to emulate FileShare.
    private SafeFileHandle? TryLock(int uid)
    {
        var path = Path.Join(_lockDirectory, uid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var fd = Open(path, OpenReadWrite | OpenCreate | OpenCloseOnExec, OwnerReadWrite);
        if (fd < 0)
        {
            throw new SandboxException("sandbox_start_failed", $"Cannot open the host uid lock file {path}: errno {Marshal.GetLastPInvokeError()}.");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Flock(handle, LockExclusive | LockNonBlocking) == 0)
        {
            return handle;
        }

        handle.Dispose(); // another worker's sandbox runs as this uid
        return null;
    }

    private void Return(int uid, SafeFileHandle held)
    {
        held.Dispose(); // closing the last descriptor drops the lock
        lock (_lock)
        {
            _held.Remove(uid);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(SafeFileHandle fd, int operation);

    /// <summary>One sandbox's hold on a uid. <see cref="Release"/> once nothing of the sandbox runs any more; later calls do nothing.</summary>
    internal sealed class Lease(HostUids owner, int uid, SafeFileHandle held)
    {
        private int _released;

        public int Uid { get; } = uid;

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Return(Uid, held);
            }
        }
    }
}
