namespace Kennel.ControlPlane.Skills.Registry;

/// <summary>How far a workspace vouches for a registry's publishers. Wire values: <c>untrusted</c> (the default) and <c>trusted</c>.</summary>
public enum SkillTrust
{
    Untrusted,
    Trusted,
}

/// <summary>One registry of a workspace's config (<c>skills.registries.NAME</c>): its base URL and trust level.</summary>
public sealed record SkillRegistryConfig(string Name, Uri Url, SkillTrust Trust);

/// <summary>A parsed registry index: its skills, each name once.</summary>
public sealed record RegistryIndex(IReadOnlyList<RegistrySkill> Skills)
{
    public RegistrySkill? Find(string name) => Skills.FirstOrDefault(skill => string.Equals(skill.Name, name, StringComparison.Ordinal));
}

/// <summary>One skill of an index, with its versions in the index's order.</summary>
public sealed record RegistrySkill(string Name, string Summary, string? Publisher, IReadOnlyList<RegistrySkillVersion> Versions)
{
    /// <summary>
    /// The version installed when none is named: the highest release by semantic-version order, or the highest
    /// pre-release when the skill has only pre-releases (as package managers do, so a 2.0.0-rc.1 is not installed over
    /// a 1.4.0 unasked); null when there is none.
    /// </summary>
    public RegistrySkillVersion? Newest => Versions
        .Select(version => (Version: version, Order: SemanticVersion.Parse(version.Version)))
        .OrderByDescending(entry => entry.Order?.IsRelease == true)
        .ThenByDescending(entry => entry.Order)
        .Select(entry => entry.Version)
        .FirstOrDefault();

    /// <summary>The version written exactly so, or null.</summary>
    public RegistrySkillVersion? Find(string version) => Versions.FirstOrDefault(v => string.Equals(v.Version, version, StringComparison.Ordinal));
}

/// <summary>One version of a skill: its archive (absolute, resolved against the index URL), the archive's SHA-256 and size.</summary>
public sealed record RegistrySkillVersion(string Version, Uri Archive, string Sha256, long Size, string? Publisher, string Summary,
    SkillRequirements Requires, DateTimeOffset? Published);

/// <summary>
/// What the last real fetch of a registry's index gave: <see cref="Answered"/> is null before any fetch, true when the
/// index was read and parsed, false with <see cref="Error"/> otherwise. <see cref="Url"/> carries no credentials or query.
/// </summary>
public sealed record RegistryStatus(string Name, string Url, SkillTrust Trust, bool? Answered, DateTimeOffset? LastFetchAt, string? Error, int? SkillCount);

/// <summary>A registry or an archive that could not be used; <see cref="Code"/> is one of <see cref="SkillRegistryErrors"/>.</summary>
public sealed class SkillRegistryException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>The stable codes of <see cref="SkillRegistryException"/>.</summary>
public static class SkillRegistryErrors
{
    public const string Unreachable = "registry_unreachable";
    public const string Timeout = "registry_timeout";
    public const string TooLarge = "registry_too_large";
    public const string Invalid = "registry_invalid";

    /// <summary>The URL's scheme, address or local folder is not one Kennel may read.</summary>
    public const string Forbidden = "registry_forbidden";
    public const string ArchiveUnreachable = "archive_unreachable";
    public const string ArchiveTooLarge = "archive_too_large";
}
