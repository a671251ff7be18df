using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Kennel.Sandbox;

/// <summary>
/// The raw descriptors a sandbox start hands to bwrap by number (its seccomp program, the pipe its trampoline says
/// "started" on). .NET's Process passes no descriptors but stdio, so these are made here and inherited by number:
/// <see cref="SandboxLauncher"/> clears their close-on-exec only for the one fork that needs them.
/// </summary>
internal static partial class LinuxDescriptors
{
    private const int CloseOnExec = 0x80000; // O_CLOEXEC
    private const int MemoryFileCloseOnExec = 1; // MFD_CLOEXEC
    private const int NonBlocking = 0x800; // O_NONBLOCK
    private const int SetDescriptorFlags = 2; // F_SETFD
    private const int DescriptorCloseOnExec = 1; // FD_CLOEXEC
    private const int SeekSet = 0;
    private const int WouldBlock = 11; // EAGAIN
    private const int Interrupted = 4; // EINTR

    /// <summary>An anonymous in-memory file, close-on-exec, holding <paramref name="content"/> from offset 0.</summary>
    public static int MemoryFile(string name, ReadOnlySpan<byte> content)
    {
        var fd = Check(MemfdCreate(name, MemoryFileCloseOnExec), "memfd_create");
        try
        {
            WriteAll(fd, content);
            Check((int)Lseek(fd, 0, SeekSet), "lseek");
            return fd;
        }
        catch
        {
            _ = Close(fd);
            throw;
        }
    }

    /// <summary>Everything in the file behind <paramref name="fd"/>, from offset 0.</summary>
    public static byte[] ReadAll(int fd)
    {
        Check((int)Lseek(fd, 0, SeekSet), "lseek");
        using var content = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        while ((read = Read(fd, buffer)) > 0)
        {
            content.Write(buffer, 0, read);
        }

        return content.ToArray();
    }

    /// <summary>A pipe whose ends are both close-on-exec and non-blocking.</summary>
    public static (int Read, int Write) Pipe()
    {
        Span<int> ends = stackalloc int[2];
        Check(Pipe2(ends, CloseOnExec | NonBlocking), "pipe2");
        return (ends[0], ends[1]);
    }

    /// <summary>Reads what is there now without waiting: the bytes read, 0 at end-of-file, -1 when nothing is there yet.</summary>
    public static int ReadNow(int fd, Span<byte> buffer)
    {
        while (true)
        {
            var read = Read(fd, buffer);
            if (read >= 0)
            {
                return read;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == WouldBlock)
            {
                return -1;
            }

            if (errno != Interrupted)
            {
                throw new Win32Exception(errno, "read failed");
            }
        }
    }

    public static void SetCloseOnExec(int fd, bool closeOnExec) =>
        Check(Fcntl(fd, SetDescriptorFlags, closeOnExec ? DescriptorCloseOnExec : 0), "fcntl(F_SETFD)");

    public static void CloseQuietly(int fd)
    {
        if (fd >= 0)
        {
            _ = Close(fd);
        }
    }

    private static void WriteAll(int fd, ReadOnlySpan<byte> content)
    {
        while (!content.IsEmpty)
        {
            var written = Write(fd, content);
            if (written < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Interrupted)
                {
                    continue;
                }

                throw new Win32Exception(errno, "write failed");
            }

            content = content[written..];
        }
    }

    private static int Check(int result, string call) =>
        result >= 0 ? result : throw new Win32Exception(Marshal.GetLastPInvokeError(), $"{call} failed");

    private static int Read(int fd, Span<byte> buffer) => (int)ReadRaw(fd, ref MemoryMarshal.GetReference(buffer), (nuint)buffer.Length);

    private static int Write(int fd, ReadOnlySpan<byte> buffer) => (int)WriteRaw(fd, in MemoryMarshal.GetReference(buffer), (nuint)buffer.Length);

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MemfdCreate(string name, int flags);

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(Span<int> ends, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadRaw(int fd, ref byte buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteRaw(int fd, in byte buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long Lseek(int fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
