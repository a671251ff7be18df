namespace Kennel.Contracts.Skills;

/// <summary>One finding of the install-time inspection: a stable code, <c>warn</c> or <c>block</c>, and the archive path it concerns.</summary>
public sealed record SkillFinding(string Code, string Severity, string Message, string? Path);

/// <summary>What a skill needs where it runs: programs on the sandbox's PATH, and env vars (workspace secrets of those names).</summary>
public sealed record SkillRequires(IReadOnlyList<string> Programs, IReadOnlyList<string> Env);

/// <summary>
/// An installed skill: pinned to its registry, name, version and archive hash, with the inspection's verdict, the agents
/// that have it, and whether it is eligible (every requirement met; when not, <see cref="Unmet"/> says which).
/// </summary>
public sealed record InstalledSkill
{
    public required string Name { get; init; }
    public required string Description { get; init; }
    public required string Version { get; init; }
    public required string Registry { get; init; }
    public required string RegistryUrl { get; init; }
    public required string Sha256 { get; init; }
    public required long Size { get; init; }
    public string? Publisher { get; init; }

    /// <summary><c>clean</c> or <c>warn</c> (installed with the warnings acknowledged).</summary>
    public required string Verdict { get; init; }

    public required IReadOnlyList<SkillFinding> Findings { get; init; }
    public required SkillRequires Requires { get; init; }
    public required IReadOnlyList<string> Agents { get; init; }
    public required bool Eligible { get; init; }
    public required IReadOnlyList<string> Unmet { get; init; }
    public required int Files { get; init; }
    public string? InstalledBy { get; init; }
    public required DateTimeOffset InstalledAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

public sealed record SkillList(IReadOnlyList<InstalledSkill> Skills);

/// <summary><c>POST /v1/skills</c> and <c>skills_install</c>: a skill by name, from one registry or the first that has it.</summary>
public sealed record InstallSkillRequest
{
    public string? Name { get; init; }

    /// <summary>A version the registry lists; the newest when absent.</summary>
    public string? Version { get; init; }

    /// <summary>The registry's name in the workspace config; when absent, the first registry (in config order) that has the skill.</summary>
    public string? Registry { get; init; }

    /// <summary>Needed to install a skill whose inspection warns.</summary>
    public bool AcknowledgeWarnings { get; init; }
}

/// <summary><c>POST /v1/skills/{name}/upgrade</c>: to a version, or the newest.</summary>
public sealed record UpgradeSkillRequest
{
    public string? Version { get; init; }
    public bool AcknowledgeWarnings { get; init; }
}

/// <summary>What an install or upgrade did: <c>installed</c>, <c>upgraded</c> or <c>unchanged</c> (that version and hash were there already).</summary>
public sealed record SkillInstallResult(string Outcome, InstalledSkill Skill, string? PreviousVersion);

public sealed record RemovedSkill(string Name, string Version, string Sha256);

/// <summary>A registry of the workspace config, with how its last index fetch went (<see cref="Answered"/> null: never fetched).</summary>
public sealed record SkillRegistryEntry
{
    public required string Name { get; init; }
    public required string Url { get; init; }
    public required string Trust { get; init; }
    public bool? Answered { get; init; }
    public DateTimeOffset? LastFetchAt { get; init; }
    public string? Error { get; init; }
    public int? Skills { get; init; }
}

public sealed record SkillRegistryList(IReadOnlyList<SkillRegistryEntry> Registries);

/// <summary>A version a registry offers.</summary>
public sealed record SkillVersionEntry
{
    public required string Version { get; init; }
    public required string Sha256 { get; init; }
    public required long Size { get; init; }
    public string? Publisher { get; init; }
    public required string Summary { get; init; }
    public required SkillRequires Requires { get; init; }
    public DateTimeOffset? Published { get; init; }
}

/// <summary>A skill a registry offers: its newest version's summary, and every version when one skill is asked for.</summary>
public sealed record BrowsedSkill
{
    public required string Name { get; init; }
    public required string Registry { get; init; }
    public required string Trust { get; init; }
    public required string Summary { get; init; }
    public string? Publisher { get; init; }
    public required string Newest { get; init; }

    /// <summary>The version installed in this workspace, if any (from this registry or another).</summary>
    public string? Installed { get; init; }

    /// <summary>Every version, in the registry's order; only in the detail of one skill.</summary>
    public IReadOnlyList<SkillVersionEntry>? Versions { get; init; }
}

/// <summary>
/// <c>skills_browse</c>: the skills matching the query across the registries, and each registry that did not answer
/// (so an empty result is not mistaken for "no such skill").
/// </summary>
public sealed record SkillBrowseResult(IReadOnlyList<BrowsedSkill> Skills, IReadOnlyList<SkillRegistryEntry> Unavailable);
