using System.Security.Cryptography;

namespace Kennel.ControlPlane.Skills.Registry;

/// <summary>One skill folder packed for a registry, with what the inspection found (warnings are kept to show).</summary>
public sealed record BuiltSkill(string Folder, string Name, string Version, string Sha256, long Size, SkillInspection Inspection);

/// <summary>What <see cref="SkillRegistryBuilder.Build"/> did; when <see cref="Refusals"/> is not empty, nothing was written.</summary>
public sealed record RegistryBuild(IReadOnlyList<BuiltSkill> Skills, IReadOnlyList<string> Refusals, string IndexPath);

/// <summary>
/// <c>kennel skills index</c>: packs every skill folder under a directory (a folder with a SKILL.md whose front matter has
/// a semantic <c>version:</c>), inspects each archive as an install would, and writes the archives and index.json into the
/// output folder. Versions already in an existing index there are kept; one that reappears with other bytes is refused,
/// since installs pin versions by hash. Any refusal means nothing is written.
/// </summary>
public static class SkillRegistryBuilder
{
    public const string ArchivesFolder = "archives";

    public static RegistryBuild Build(string skillsDirectory, string outputDirectory, Uri? baseUrl, string? publisher, DateTimeOffset now)
    {
        var output = Path.GetFullPath(outputDirectory);
        var indexPath = Path.Combine(output, SkillRegistryUrls.IndexFile);
        var indexUrl = new Uri(indexPath);
        var archiveBase = baseUrl is null ? new Uri(indexUrl, ArchivesFolder + "/") : new Uri(WithSlash(baseUrl), ArchivesFolder + "/");
        var refusals = new List<string>();
        var built = new List<(BuiltSkill Skill, byte[] Archive)>();
        var folders = SkillFolders(skillsDirectory, output);
        if (folders.Count == 0)
        {
            refusals.Add($"{skillsDirectory}: no skill folders (a folder with a {SkillInspector.ManifestPath} at its root) under it");
        }
        foreach (var folder in folders)
        {
            if (Pack(folder, refusals) is { } packed)
            {
                built.Add(packed);
            }
        }
        foreach (var twice in built.GroupBy(b => b.Skill.Name, StringComparer.Ordinal).Where(group => group.Count() > 1))
        {
            refusals.Add($"the skill '{twice.Key}' is in more than one folder: {string.Join(", ", twice.Select(b => b.Skill.Folder))}");
        }
        var previous = Previous(indexPath, indexUrl, refusals);
        var index = Merge(previous, built.Select(b => b.Skill), archiveBase, publisher, now, refusals);
        var result = new RegistryBuild([.. built.Select(b => b.Skill)], refusals, indexPath);
        if (refusals.Count > 0)
        {
            return result;
        }
        Directory.CreateDirectory(Path.Combine(output, ArchivesFolder));
        foreach (var (skill, archive) in built)
        {
            WriteAtomically(Path.Combine(output, ArchivesFolder, ArchiveName(skill)), archive);
        }
        var text = RegistryIndexWriter.Write(index, indexUrl);
        RegistryIndexParser.Parse(text, indexUrl);
        WriteAtomically(indexPath, text);
        return result;
    }

    public static string ArchiveName(BuiltSkill skill)
    {
        ArgumentNullException.ThrowIfNull(skill);
        return $"{skill.Name}-{skill.Version}.tar.gz";
    }

    private static List<string> SkillFolders(string directory, string output) =>
        [.. Directory.EnumerateDirectories(directory)
            .Select(Path.GetFullPath)
            .Where(folder => folder != output && File.Exists(Path.Combine(folder, SkillInspector.ManifestPath)))
            .Order(StringComparer.Ordinal)];

    private static RegistryIndex Previous(string indexPath, Uri indexUrl, List<string> refusals)
    {
        if (!File.Exists(indexPath))
        {
            return new RegistryIndex([]);
        }
        try
        {
            return RegistryIndexParser.Parse(File.ReadAllBytes(indexPath), indexUrl);
        }
        catch (SkillRegistryException invalid)
        {
            refusals.Add($"{indexPath}: the index already there cannot be kept: {invalid.Message}");
            return new RegistryIndex([]);
        }
    }

    private static (BuiltSkill, byte[])? Pack(string folder, List<string> refusals)
    {
        byte[] archive;
        try
        {
            archive = SkillFolderPacker.Pack(folder);
        }
        catch (Exception unpackable) when (unpackable is ArgumentException or IOException or UnauthorizedAccessException)
        {
            refusals.Add($"{folder}: cannot be packed: {unpackable.Message}");
            return null;
        }
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(archive));
        var inspection = SkillInspector.Inspect(new MemoryStream(archive, writable: false), sha256, SkillLimits.Default);
        if (inspection.IsBlocked)
        {
            var reasons = inspection.Reasons.Where(r => r.Severity == SkillVerdict.Block).Select(r => $"{r.Code}{(r.Path is null ? "" : $" in {r.Path}")}: {r.Message}");
            refusals.Add($"{folder}: blocked, as an install would be ({string.Join("; ", reasons)})");
            return null;
        }
        var manifest = inspection.Manifest!;
        if (manifest.Version is null || SemanticVersion.Parse(manifest.Version) is null)
        {
            refusals.Add($"{folder}: {SkillInspector.ManifestPath} needs a 'version:' that is a semantic version such as 1.0.0 (installs pin skills by version and hash)");
            return null;
        }
        return (new BuiltSkill(folder, manifest.Name, manifest.Version, sha256, archive.Length, inspection), archive);
    }

    private static RegistryIndex Merge(RegistryIndex previous, IEnumerable<BuiltSkill> built, Uri archiveBase, string? publisher, DateTimeOffset now,
        List<string> refusals)
    {
        var skills = previous.Skills.ToDictionary(skill => skill.Name, StringComparer.Ordinal);
        foreach (var skill in built)
        {
            var before = skills.GetValueOrDefault(skill.Name);
            var manifest = skill.Inspection.Manifest!;
            var version = before?.Find(skill.Version) is { } indexed
                ? Unchanged(indexed, skill, refusals)
                : new RegistrySkillVersion(skill.Version, new Uri(archiveBase, ArchiveName(skill)), skill.Sha256, skill.Size,
                    publisher ?? before?.Publisher, manifest.Description, manifest.Requires, now.ToUniversalTime());
            List<RegistrySkillVersion> versions = [.. (before?.Versions ?? []).Where(v => v.Version != skill.Version), version];
            var newest = new RegistrySkill(skill.Name, "", null, versions).Newest!;
            skills[skill.Name] = new RegistrySkill(skill.Name, newest.Summary, publisher ?? before?.Publisher, versions);
        }
        return new RegistryIndex([.. skills.Values]);
    }

    private static RegistrySkillVersion Unchanged(RegistrySkillVersion indexed, BuiltSkill skill, List<string> refusals)
    {
        if (indexed.Sha256 != skill.Sha256)
        {
            refusals.Add($"{skill.Folder}: {skill.Name} {skill.Version} is already in the index with other content; give the changed skill a new version");
        }
        return indexed;
    }

    private static Uri WithSlash(Uri url) => url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");

    private static void WriteAtomically(string path, byte[] content)
    {
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}
