using System.Formats.Tar;
using System.IO.Compression;

namespace Kennel.ControlPlane.Skills.Registry;

/// <summary>
/// Packs a skill folder into the archive a registry serves: a gzipped ustar tar with SKILL.md at its root. The archive
/// is reproducible: entries sorted by path, fixed times, owner 0:0 with no names, modes reduced to 0644/0755, so the
/// same folder gives the same bytes and the same SHA-256 (with the same .NET compressor). Symlinks are packed as links
/// and left to <see cref="SkillInspector"/> to judge; nothing is followed out of the folder.
/// </summary>
public static class SkillFolderPacker
{
    /// <summary>The fixed modification time of every entry.</summary>
    public static readonly DateTimeOffset EntryTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Executable = Readable | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    public static byte[] Pack(string folder)
    {
        var root = new DirectoryInfo(folder);
        if (!root.Exists)
        {
            throw new DirectoryNotFoundException($"'{folder}' is not a folder");
        }
        var entries = new List<(string Path, FileSystemInfo Info)>();
        Collect(root, "", entries);
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var (path, info) in entries.OrderBy(entry => entry.Path, StringComparer.Ordinal))
            {
                tar.WriteEntry(Entry(path, info));
            }
        }
        return output.ToArray();
    }

    private static void Collect(DirectoryInfo directory, string prefix, List<(string, FileSystemInfo)> entries)
    {
        foreach (var info in directory.EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, RecurseSubdirectories = false }))
        {
            var path = prefix + info.Name;
            if (info is DirectoryInfo child && info.LinkTarget is null)
            {
                entries.Add((path + "/", info));
                Collect(child, path + "/", entries);
            }
            else
            {
                entries.Add((path, info));
            }
        }
    }

    private static UstarTarEntry Entry(string path, FileSystemInfo info)
    {
        UstarTarEntry entry;
        if (info.LinkTarget is { } target)
        {
            entry = new UstarTarEntry(TarEntryType.SymbolicLink, path) { LinkName = target, Mode = Executable };
        }
        else if (info is DirectoryInfo)
        {
            entry = new UstarTarEntry(TarEntryType.Directory, path) { Mode = Executable };
        }
        else
        {
            var executable = (File.GetUnixFileMode(info.FullName) & AnyExecute) != 0;
            entry = new UstarTarEntry(TarEntryType.RegularFile, path)
            {
                Mode = executable ? Executable : Readable,
                DataStream = new MemoryStream(File.ReadAllBytes(info.FullName)),
            };
        }
        entry.ModificationTime = EntryTime;
        entry.Uid = 0;
        entry.Gid = 0;
        entry.UserName = "";
        entry.GroupName = "";
        return entry;
    }
}
