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

    /// <summary>Writes the files into <paramref name="directory"/>, each replaced atomically so a sandbox starting meanwhile copies a whole file.</summary>
    /// <returns>The names of the files written.</returns>
    public static IReadOnlyList<string> Write(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var (name, content) in Files)
        {
            var path = Path.Join(directory, name);
            var temporary = path + ".tmp";
            File.WriteAllText(temporary, content);
            File.Move(temporary, path, overwrite: true);
        }

        return [.. Files.Select(f => f.Name)];
    }
}
