namespace Kennel.ControlPlane.Skills;

/// <summary>How safe a skill archive looks; ordered so that the worst finding wins.</summary>
public enum SkillVerdict
{
    Clean = 0,
    Warn = 1,
    Block = 2,
}

/// <summary>One finding: a stable <paramref name="Code"/>, what was seen, and the archive path it concerns (null for the whole archive).</summary>
public sealed record SkillReason(string Code, SkillVerdict Severity, string Message, string? Path)
{
    public static SkillReason Block(string code, string message, string? path) => new(code, SkillVerdict.Block, message, path);
}

/// <summary>One entry of the archive as it was declared: a file, a directory or a symlink inside the folder.</summary>
public sealed record SkillFile(string Path, long Size, UnixFileMode Mode, SkillFileKind Kind);

public enum SkillFileKind
{
    File,
    Directory,
    Symlink,
}

/// <summary>What the skill needs on the machine that runs it.</summary>
public sealed record SkillRequirements(IReadOnlyList<string> Programs, IReadOnlyList<string> Env)
{
    public static readonly SkillRequirements None = new([], []);
}

/// <summary>The front matter of <c>SKILL.md</c>.</summary>
public sealed record SkillManifest(string Name, string Description, string? Version, SkillRequirements Requires)
{
    /// <summary>A skill's name: its folder under <c>/skills/</c> in a sandbox, and its key in a workspace.</summary>
    public const string NamePattern = "^[a-z0-9][a-z0-9-]{0,63}$";
}

/// <summary>The outcome of <see cref="SkillInspector.Inspect"/>; <see cref="Manifest"/> is null when SKILL.md is missing or does not parse.</summary>
public sealed record SkillInspection(SkillVerdict Verdict, IReadOnlyList<SkillReason> Reasons, SkillManifest? Manifest, IReadOnlyList<SkillFile> Files)
{
    public bool IsBlocked => Verdict == SkillVerdict.Block;
}

/// <summary>
/// Bounds on what an archive may hold. The ratio cap catches gzip bombs early: past <see cref="BombFloorBytes"/>, inflated
/// bytes may not exceed <see cref="MaxCompressionRatio"/> times the compressed size.
/// </summary>
public sealed record SkillLimits
{
    public static readonly SkillLimits Default = new();

    public long MaxCompressedBytes { get; init; } = 5 * 1024 * 1024;
    public long MaxUncompressedBytes { get; init; } = 20 * 1024 * 1024;
    public long MaxFileBytes { get; init; } = 5 * 1024 * 1024;
    public int MaxFiles { get; init; } = 500;
    public int MaxCompressionRatio { get; init; } = 100;
    public long BombFloorBytes { get; init; } = 1024 * 1024;
}
