using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Kennel.Sandbox;

/// <summary>A file the sandbox shows its workload read-only, at <paramref name="Path"/> (under <c>/run/kennel/</c>).</summary>
public sealed record SandboxFile(string Path, ReadOnlyMemory<byte> Content);

/// <summary>
/// A session's <see cref="SandboxFile"/>s on the host, each bind-mounted read-only at its path in the sandbox. The
/// sandbox's /tmp and /work are its own tmpfs, so a file cannot be copied in; bwrap binds it from a per-session
/// directory that only the sandbox's host uid can read, removed when the session ends.
/// </summary>
internal sealed partial class SandboxFiles
{
    public const string Root = "/run/kennel/";
    public const int MaxFiles = 16;
    public const long MaxTotalBytes = 16L << 20;

    private readonly string _directory;

    private SandboxFiles(string directory, IReadOnlyList<string> mountArguments)
    {
        _directory = directory;
        MountArguments = mountArguments;
    }

    /// <summary>bwrap arguments binding each file; they go before /tmp, /work and the read-only remount of the root.</summary>
    public IReadOnlyList<string> MountArguments { get; }

    public static void Validate(IReadOnlyList<SandboxFile> files)
    {
        if (files.Count > MaxFiles || files.Sum(f => (long)f.Content.Length) > MaxTotalBytes)
        {
            throw new SandboxException("invalid_spec", $"A sandbox takes at most {MaxFiles} files of {MaxTotalBytes} bytes in all.");
        }
        foreach (var file in files)
        {
            if (!FilePath().IsMatch(file.Path) || file.Path.Split('/').Any(part => part is "." or ".."))
            {
                throw new SandboxException("invalid_spec", $"File path '{file.Path}' must be an absolute path under {Root} of letters, digits, '.', '_', '-' and '/'.");
            }
        }
        if (files.Select(f => f.Path).Distinct(StringComparer.Ordinal).Count() != files.Count)
        {
            throw new SandboxException("invalid_spec", "Each file path may appear once.");
        }
    }

    /// <summary>Writes the files under <paramref name="sharedDirectory"/>, readable by the sandbox's host uid alone (null: this process's uid).</summary>
    public static SandboxFiles? Write(string sharedDirectory, string sessionId, IReadOnlyList<SandboxFile> files, int? hostUid)
    {
        if (files.Count == 0)
        {
            return null;
        }
        try
        {
            return WriteAll(sharedDirectory, sessionId, files, hostUid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SandboxException("sandbox_start_failed", $"Cannot write the files of session {sessionId}: {e.Message}");
        }
    }

    private static SandboxFiles WriteAll(string sharedDirectory, string sessionId, IReadOnlyList<SandboxFile> files, int? hostUid)
    {
        // Searchable but not listable: other users cannot find the session directories, and each is private to the sandbox uid.
        var parent = Path.Join(sharedDirectory, "files");
        Directory.CreateDirectory(parent);
        File.SetUnixFileMode(parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var directory = Path.Join(parent, sessionId);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true); // left by a worker that died during this session
        }
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
        var arguments = new List<string>(files.Count * 3);
        try
        {
            for (var i = 0; i < files.Count; i++)
            {
                var host = Path.Join(directory, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                using (var stream = new FileStream(host, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    stream.Write(files[i].Content.Span);
                }
                File.SetUnixFileMode(host, UnixFileMode.UserRead);
                Own(host, hostUid);
                arguments.AddRange(["--ro-bind", host, files[i].Path]);
            }
            Own(directory, hostUid);
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
        return new SandboxFiles(directory, arguments);
    }

    public void Delete()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone.
        }
    }

    /// <summary>From root, hands the file to the sandbox's host uid (and the gid of the same number); otherwise the sandbox runs as this process's uid already.</summary>
    private static void Own(string path, int? uid)
    {
        if (uid is { } owner && Chown(path, owner, owner) != 0)
        {
            throw new IOException($"Cannot hand {path} to uid {owner}: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, int owner, int group);

    [GeneratedRegex("^/run/kennel/[A-Za-z0-9._/-]{1,200}$")]
    private static partial Regex FilePath();
}

/// <summary>A sandboxed process whose files are removed once it is disposed.</summary>
internal sealed class ProcessWithFiles(ISandboxProcess inner, SandboxFiles files) : ISandboxProcess
{
    public Stream StandardOutput => inner.StandardOutput;
    public Stream StandardError => inner.StandardError;

    public Task<SandboxExit> WaitForExitAsync(CancellationToken cancellationToken) => inner.WaitForExitAsync(cancellationToken);

    public Task KillAsync() => inner.KillAsync();

    public async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        files.Delete();
    }
}
