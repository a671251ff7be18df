using System.Security.Cryptography;
using System.Text;

namespace Kennel.Sandbox.Snapshots;

/// <summary>
/// The few /etc files a minimal userland needs, generated rather than taken from the host, whose /etc holds
/// its users, its hostname and its secrets.
/// </summary>
internal static class SyntheticEtc
{
    private static readonly (string Name, string Content)[] Files =
    [
        ("passwd", """
            root:x:0:0:root:/root:/usr/sbin/nologin
            sandbox:x:1000:1000:sandbox:/work:/bin/sh
            nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin

            """),
        ("group", """
            root:x:0:
            sandbox:x:1000:
            nogroup:x:65534:

            """),
        ("hosts", """
            127.0.0.1 localhost sandbox
            ::1 localhost ip6-localhost ip6-loopback

            """),
        ("nsswitch.conf", """
            passwd: files
            group: files
            shadow: files
            hosts: files dns

            """),
        ("resolv.conf", ""),
    ];

    private const UnixFileMode Directory0755 =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private const UnixFileMode File0444 = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>
    /// Publishes the files as <c>etc-HASH</c> under <paramref name="sharedDirectory"/>, named by their content, and
    /// returns that directory. It is written under a temporary name and renamed whole, so a sandbox never sees it
    /// half-written, and workers sharing the directory share identical copies. The sandbox's uid must read it: the
    /// directories are 0755 and the files 0444, whatever the umask. Nothing in them is secret.
    /// </summary>
    public static string Publish(string sharedDirectory)
    {
        var final = Path.Join(sharedDirectory, "etc-" + ContentHash());
        if (Directory.Exists(final))
        {
            return final;
        }

        Directory.CreateDirectory(sharedDirectory);
        var mode = File.GetUnixFileMode(sharedDirectory);
        if ((mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            throw new IOException($"{sharedDirectory} is writable by other users, who could replace a sandbox's /etc.");
        }

        if ((mode & UnixFileMode.OtherExecute) == 0)
        {
            // Ours and new, or an admin's choice we widen only as far as the sandbox uid needs.
            File.SetUnixFileMode(sharedDirectory, mode | UnixFileMode.OtherRead | UnixFileMode.OtherExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        }

        var temporary = Path.Join(sharedDirectory, $".etc-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(temporary);
            File.SetUnixFileMode(temporary, Directory0755);
            foreach (var (name, content) in Files)
            {
                var path = Path.Join(temporary, name);
                File.WriteAllText(path, content);
                File.SetUnixFileMode(path, File0444);
            }

            Directory.Move(temporary, final);
        }
        catch (IOException) when (Directory.Exists(final))
        {
            // Another worker published the same content first.
        }
        finally
        {
            if (Directory.Exists(temporary))
            {
                Directory.Delete(temporary, recursive: true);
            }
        }

        return final;
    }

    private static string ContentHash()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, content) in Files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{name}\0{content}\0"));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }
}
