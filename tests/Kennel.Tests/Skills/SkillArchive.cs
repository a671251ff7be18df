using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Kennel.ControlPlane.Skills;

namespace Kennel.Tests.Skills;

/// <summary>Builds skill archives in memory, the way a publisher would pack a skill folder with tar and gzip.</summary>
public sealed class SkillArchive
{
    public const UnixFileMode Plain = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    public const UnixFileMode Executable = Plain | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private readonly List<TarEntry> entries = [];

    public static SkillArchive WithManifest(string name = "demo-skill", string description = "Does a demo thing.") =>
        new SkillArchive().File("SKILL.md", $"---\nname: {name}\ndescription: {description}\n---\n# {name}\n\nRun the script.\n");

    public SkillArchive File(string path, string text, UnixFileMode mode = Plain) => File(path, Encoding.UTF8.GetBytes(text), mode);

    public SkillArchive File(string path, byte[] content, UnixFileMode mode = Plain)
    {
        entries.Add(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(content), Mode = mode });
        return this;
    }

    public SkillArchive Directory(string path) => Add(new PaxTarEntry(TarEntryType.Directory, path) { Mode = Executable });

    public SkillArchive Symlink(string path, string target) => Add(new PaxTarEntry(TarEntryType.SymbolicLink, path) { LinkName = target });

    public SkillArchive HardLink(string path, string target) => Add(new PaxTarEntry(TarEntryType.HardLink, path) { LinkName = target });

    public SkillArchive Special(TarEntryType type, string path) => Add(new PaxTarEntry(type, path));

    public SkillArchive Add(TarEntry entry)
    {
        entries.Add(entry);
        return this;
    }

    public byte[] Bytes()
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                entry.DataStream?.Seek(0, SeekOrigin.Begin);
                tar.WriteEntry(entry);
            }
        }
        return output.ToArray();
    }

    public SkillInspection Inspect(SkillLimits? limits = null) => InspectBytes(Bytes(), limits);

    public static SkillInspection InspectBytes(byte[] bytes, SkillLimits? limits = null) =>
        SkillInspector.Inspect(new MemoryStream(bytes), Convert.ToHexStringLower(SHA256.HashData(bytes)), limits ?? SkillLimits.Default);
}
