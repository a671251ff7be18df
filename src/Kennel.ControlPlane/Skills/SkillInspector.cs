namespace Kennel.ControlPlane.Skills;

/// <summary>
/// Inspects a skill archive (a gzipped tar of the skill folder) without writing anything: the hash, the limits, the
/// entries, the manifest, then a static scan of the content. The stages stop at the first one that blocks, except
/// that a missing or bad manifest still lets the scan run, since every entry was already found safe to read.
/// </summary>
public static class SkillInspector
{
    public const string ManifestPath = "SKILL.md";

    public static SkillInspection Inspect(Stream archive, string expectedSha256, SkillLimits limits)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(expectedSha256);
        ArgumentNullException.ThrowIfNull(limits);
        if (SkillArchiveReader.ReadBounded(archive, limits.MaxCompressedBytes) is not { } compressed)
        {
            return Blocked(SkillReason.Block("too_large", $"the archive is over the {limits.MaxCompressedBytes} byte limit", null), []);
        }
        if (!SkillArchiveReader.HashMatches(compressed, expectedSha256))
        {
            return Blocked(SkillReason.Block("hash_mismatch", "the archive's SHA-256 is not the expected one", null), []);
        }
        var (entries, limitReason) = SkillArchiveReader.ReadEntries(compressed, limits);
        if (limitReason is not null)
        {
            return Blocked(limitReason, []);
        }
        var (files, reasons) = SkillEntryRules.Check(entries);
        if (reasons.Count > 0)
        {
            return new SkillInspection(SkillVerdict.Block, reasons, null, files);
        }
        var contents = entries.Select(e => (Path: SkillEntryRules.Normalise(e.Name)!, e.Content)).ToList();
        var manifest = ReadManifest(contents, reasons);
        foreach (var (path, content) in contents)
        {
            reasons.AddRange(SkillScanner.Scan(path, content));
        }
        var verdict = reasons.Count == 0 ? SkillVerdict.Clean : reasons.Max(r => r.Severity);
        return new SkillInspection(verdict, reasons, manifest, files);
    }

    private static SkillManifest? ReadManifest(List<(string Path, byte[] Content)> contents, List<SkillReason> reasons)
    {
        var found = contents.Where(c => c.Path == ManifestPath).Select(c => c.Content).FirstOrDefault();
        if (found is null)
        {
            reasons.Add(SkillReason.Block("missing_manifest", "there is no SKILL.md at the root of the archive", ManifestPath));
            return null;
        }
        if (SkillScanner.Text(found) is not { } text)
        {
            reasons.Add(SkillReason.Block("bad_manifest", "SKILL.md is not UTF-8 text", ManifestPath));
            return null;
        }
        var (manifest, error) = SkillManifestParser.Parse(text);
        if (error is not null)
        {
            reasons.Add(SkillReason.Block("bad_manifest", error, ManifestPath));
        }
        return manifest;
    }

    private static SkillInspection Blocked(SkillReason reason, IReadOnlyList<SkillFile> files) => new(SkillVerdict.Block, [reason], null, files);
}
