using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Kennel.Sandbox;

/// <summary>
/// Starts a process as a host uid with no passwd entry: the forked child sets no supplementary groups, then the gid,
/// then the uid (<c>setgroups(0)</c>, <c>setgid</c>, <c>setuid</c> from root, so the real, effective and saved ids all
/// change and every capability goes), and only then execs. Nothing of it ever runs as root, and no helper is exec'd
/// on the way.
/// </summary>
/// <remarks>
/// This is what <see cref="Process"/> does for <see cref="ProcessStartInfo.UserName"/>, but that property resolves a
/// user name through the passwd database, which the range's uids are not in. So the start is
/// <see cref="Process.Start()"/> for a start info with every stream redirected and no shell, with the ids given
/// directly to the same private step of <see cref="Process"/> it ends in. Those private members are .NET 10's;
/// <see cref="IsSupported"/> tells whether this runtime has them, and the runtime's probe refuses to run as root
/// without them rather than run a sandbox as root.
/// </remarks>
internal static class HostUidStart
{
    private const int StreamBufferSize = 4096;
    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Whether this runtime's <see cref="Process"/> has the members <see cref="Start"/> needs.</summary>
    public static bool IsSupported { get; } = Probe();

    /// <summary>Starts <paramref name="startInfo"/> (absolute file name, all three streams redirected) as <paramref name="uid"/>, with the same number as its gid and no other groups.</summary>
    public static Process Start(ProcessStartInfo startInfo, int uid)
    {
        if (!Path.IsPathRooted(startInfo.FileName) || startInfo.UseShellExecute
            || !startInfo.RedirectStandardInput || !startInfo.RedirectStandardOutput || !startInfo.RedirectStandardError)
        {
            throw new ArgumentException("Needs an absolute file name, no shell, and every stream redirected.", nameof(startInfo));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(uid);
        var process = new Process { StartInfo = startInfo };
        EnsureInitialized(null);
        string[] argv = [startInfo.FileName, .. startInfo.ArgumentList];
        string[] envp = [.. startInfo.Environment.Select(variable => $"{variable.Key}={variable.Value}")];
        var cwd = string.IsNullOrWhiteSpace(startInfo.WorkingDirectory) ? null : startInfo.WorkingDirectory;
        try
        {
            ForkAndExecProcess(
                process, startInfo, startInfo.FileName, argv, envp, cwd, setCredentials: true, (uint)uid, (uint)uid, groups: [],
                out var stdin, out var stdout, out var stderr, usesTerminal: false, throwOnNoExec: true);
            StandardInput(process) = new StreamWriter(OpenStream(stdin, PipeDirection.Out), Utf8, StreamBufferSize) { AutoFlush = true };
            StandardOutput(process) = new StreamReader(OpenStream(stdout, PipeDirection.In), Utf8, true, StreamBufferSize);
            StandardError(process) = new StreamReader(OpenStream(stderr, PipeDirection.In), Utf8, true, StreamBufferSize);
        }
        catch
        {
            process.Dispose();
            throw;
        }

        return process;
    }

    private static AnonymousPipeClientStream OpenStream(int fd, PipeDirection direction) =>
        new(direction, new SafePipeHandle(fd, ownsHandle: true));

    private static bool Probe()
    {
        try
        {
            // Binds every accessor without starting anything: each throws MissingMethodException or MissingFieldException
            // when this runtime lacks its member.
            using var process = new Process();
            _ = StandardInput(process);
            _ = StandardOutput(process);
            _ = StandardError(process);
            EnsureInitialized(null);
            ForkAndExecProcess(process, new ProcessStartInfo(), resolvedFilename: null, [], [], null, false, 0, 0, null, out _, out _, out _, false, true);
            return false; // unreachable: a null file name throws before anything is forked
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return true;
        }
        catch (Exception e) when (e is MissingMemberException)
        {
            return false;
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "EnsureInitialized")]
    private static extern void EnsureInitialized(Process? process);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "ForkAndExecProcess")]
    private static extern bool ForkAndExecProcess(
        Process process, ProcessStartInfo startInfo, string? resolvedFilename, string[] argv, string[] envp, string? cwd,
        bool setCredentials, uint userId, uint groupId, uint[]? groups,
        out int stdinFd, out int stdoutFd, out int stderrFd, bool usesTerminal, bool throwOnNoExec);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_standardInput")]
    private static extern ref StreamWriter? StandardInput(Process process);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_standardOutput")]
    private static extern ref StreamReader? StandardOutput(Process process);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_standardError")]
    private static extern ref StreamReader? StandardError(Process process);
}
