using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Kennel.Sandbox.Snapshots;

/// <summary>
/// A built snapshot's image: a tar of its root filesystem that the same tree always turns into the same bytes, so its
/// SHA-256 names it. GNU tar writes it with the reproducible-builds options: entries sorted by name, every mtime the
/// epoch, every owner root (0:0, numeric), POSIX format without access or change times. Device nodes, sockets and the
/// contents of the directories a sandbox makes itself (/proc, /dev, /sys, /tmp, /run) are left out. Hard links stay
/// links. Set-user-id bits do not survive a build (sandboxes run with no_new_privs, where they mean nothing).
/// </summary>
public static partial class SnapshotImage
{
    private static readonly string[] CreateOptions =
    [
        "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "--format=posix",
        "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
        "--no-acls", "--no-selinux", "--no-xattrs",
        "--exclude=./proc/*", "--exclude=./dev/*", "--exclude=./sys/*", "--exclude=./tmp/*", "--exclude=./run/*",
        "--exclude=./debootstrap",
    ];

    /// <summary>Whether <paramref name="digest"/> is a SHA-256 in the form Kennel writes it: 64 lower-case hex digits.</summary>
    public static bool IsDigest(string? digest) => digest is not null && DigestPattern().IsMatch(digest);

    /// <summary>Writes the tree under <paramref name="root"/> to <paramref name="destination"/> and returns its digest and size.</summary>
    /// <param name="maxBytes">The largest image allowed: a bigger one is refused (and not kept).</param>
    public static async Task<(string Digest, long Size)> CreateAsync(string root, string destination, long maxBytes, CancellationToken cancellationToken)
    {
        var tar = ExecutableSearch.Find("tar") ?? throw new IOException("GNU tar is not installed; install it with: apt-get install tar");
        var start = new ProcessStartInfo(tar) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var option in CreateOptions)
        {
            start.ArgumentList.Add(option);
        }

        foreach (var argument in new[] { "-C", root, "-cf", "-", "." })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new IOException("tar did not start");
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long size = 0;
        try
        {
            await using (var file = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await process.StandardOutput.BaseStream.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    size += read;
                    if (size > maxBytes)
                    {
                        throw new IOException($"the image is over the limit of {maxBytes} bytes");
                    }

                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }

            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                throw new IOException($"tar could not write the image (exit {process.ExitCode}): {(await errors).Trim()}");
            }
        }
        catch
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            File.Delete(destination);
            throw;
        }

        return (Convert.ToHexStringLower(hash.GetHashAndReset()), size);
    }

    /// <summary>Whether the file's SHA-256 is <paramref name="digest"/>.</summary>
    public static async Task<bool> MatchesAsync(string path, string digest, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken)) == digest;
    }

    /// <summary>
    /// Unpacks an image (already checked against its digest) into <paramref name="directory"/>, which must not exist.
    /// As root the files keep the image's owner (root); otherwise they are the caller's.
    /// </summary>
    public static async Task ExtractAsync(string image, string directory, CancellationToken cancellationToken)
    {
        var tar = ExecutableSearch.Find("tar") ?? throw new IOException("GNU tar is not installed; install it with: apt-get install tar");
        Directory.CreateDirectory(directory);
        var start = new ProcessStartInfo(tar) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-xf", image, "-C", directory, "--numeric-owner", "--no-overwrite-dir", "--delay-directory-restore" })
        {
            start.ArgumentList.Add(argument);
        }

        if (!Environment.IsPrivilegedProcess)
        {
            start.ArgumentList.Add("--no-same-owner");
        }

        using var process = Process.Start(start) ?? throw new IOException("tar did not start");
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new IOException($"tar could not unpack the image (exit {process.ExitCode}): {(await errors).Trim()}");
        }
    }

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex DigestPattern();
}
