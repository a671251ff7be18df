using System.Text.Json;
using System.Text.RegularExpressions;
using Kennel.Agents.Models;
using Kennel.Contracts.Skills;
using Kennel.ControlPlane.Agents;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Config;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Skills.Registry;

namespace Kennel.ControlPlane.Skills;

/// <summary>
/// A workspace's skills: its registries (from its config), what they offer, installs that are checked before anything is
/// written (the pin, the size, then <see cref="SkillInspector"/>: hash, limits, entries, SKILL.md, attack patterns),
/// upgrades, uninstalls, and the installed list with the agents that have each skill and whether it is eligible.
/// </summary>
public sealed partial class SkillService(SkillStore store, SkillRegistryClient client, ConfigService config, AgentService agents,
    SkillEligibility eligibility, SkillLimits limits, TimeProvider time)
{
    public const int MaxBrowseResults = 50;
    public const int DefaultBrowseResults = 20;
    public const int MaxQueryLength = 200;
    public const int MaxVersionLength = 64;

    public async Task<SkillRegistryList> RegistriesAsync(Caller caller, CancellationToken cancellationToken) =>
        new([.. (await RegistriesOfAsync(caller.WorkspaceId, cancellationToken)).Select(Entry)]);

    /// <summary>Skills whose name, summary or publisher holds every word of <paramref name="query"/>; with <paramref name="name"/>, that one skill with its versions.</summary>
    public async Task<SkillBrowseResult> BrowseAsync(Caller caller, string? query, string? name, string? registry, int? limit, CancellationToken cancellationToken)
    {
        if (query is { Length: > MaxQueryLength })
        {
            throw ApiProblem.Invalid("query", $"query is at most {MaxQueryLength} characters.");
        }
        if (name is not null)
        {
            ValidName(name);
        }
        if (limit is < 1 or > MaxBrowseResults)
        {
            throw ApiProblem.Invalid("limit", $"limit must be from 1 to {MaxBrowseResults}.");
        }
        var registries = Only(await RegistriesOfAsync(caller.WorkspaceId, cancellationToken), registry);
        var fetched = await Task.WhenAll(registries.Select(async r => (Registry: r, Index: await TryIndexAsync(r, cancellationToken))));
        var installed = (await store.ListAsync(caller.WorkspaceId, cancellationToken)).ToDictionary(row => row.Name, row => row.Version, StringComparer.Ordinal);
        var words = (query ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var skills = fetched.Where(f => f.Index is not null)
            .SelectMany(f => f.Index!.Skills.Where(s => s.Newest is not null).Select(s => (f.Registry, Skill: s)))
            .Where(found => name is null ? words.All(word => Matches(found.Skill, word)) : found.Skill.Name == name)
            .Take(limit ?? DefaultBrowseResults)
            .Select(found => Browsed(found.Registry, found.Skill, installed.GetValueOrDefault(found.Skill.Name), detail: name is not null))
            .ToList();
        if (name is not null && skills.Count == 0 && fetched.All(f => f.Index is not null))
        {
            throw new ApiProblem(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "No such skill.",
                $"No registry of this workspace offers a skill '{name}'. skills_browse with a query searches them.");
        }
        return new SkillBrowseResult(skills, [.. fetched.Where(f => f.Index is null).Select(f => Entry(f.Registry))]);
    }

    public async Task<SkillInstallResult> InstallAsync(Caller caller, InstallSkillRequest request, CancellationToken cancellationToken)
    {
        var name = ValidName(request.Name);
        var version = ValidVersion(request.Version);
        var registries = Only(await RegistriesOfAsync(caller.WorkspaceId, cancellationToken), request.Registry);
        if (registries.Count == 0)
        {
            throw ApiProblem.Conflict("no_registries", "This workspace has no skill registry. Add one: kennel config set skills.registries.NAME " +
                "'{\"url\": \"https://…/index.json\", \"trust\": \"trusted\"}'.");
        }
        var (registry, skill) = await FindAsync(registries, name, cancellationToken);
        var chosen = Choose(skill, version);
        var existing = await store.GetAsync(caller.WorkspaceId, name, cancellationToken);
        if (existing is not null && (existing.RegistryUrl != registry.Url.ToString() || existing.Version != chosen.Version))
        {
            throw ApiProblem.Conflict(SkillProblems.AlreadyInstalled,
                $"'{name}' {existing.Version} is installed from registry '{existing.Registry}'. Upgrade it (kennel skills upgrade {name}, " +
                $"POST /v1/skills/{name}/upgrade) or uninstall it first.");
        }
        return await PutAsync(caller, registry, name, chosen, existing, request.AcknowledgeWarnings, cancellationToken);
    }

    /// <summary>Moves an installed skill to another version (the newest by default) of the registry it came from.</summary>
    public async Task<SkillInstallResult> UpgradeAsync(Caller caller, string name, UpgradeSkillRequest request, CancellationToken cancellationToken)
    {
        var existing = await store.GetAsync(caller.WorkspaceId, ValidName(name), cancellationToken) ?? throw ApiProblem.NotFound("skill", name);
        var version = ValidVersion(request.Version);
        var registry = (await RegistriesOfAsync(caller.WorkspaceId, cancellationToken)).FirstOrDefault(r => r.Name == existing.Registry)
            ?? throw ApiProblem.Conflict("registry_missing", $"'{name}' came from registry '{existing.Registry}', which the workspace config no longer has.");
        var (_, skill) = await FindAsync([registry], name, cancellationToken);
        return await PutAsync(caller, registry, name, Choose(skill, version), existing, request.AcknowledgeWarnings, cancellationToken);
    }

    public async Task<RemovedSkill> UninstallAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        var existing = await store.GetAsync(caller.WorkspaceId, ValidName(name), cancellationToken) ?? throw ApiProblem.NotFound("skill", name);
        if (!await store.DeleteAsync(caller.WorkspaceId, name, cancellationToken))
        {
            throw ApiProblem.NotFound("skill", name);
        }
        return new RemovedSkill(existing.Name, existing.Version, existing.Sha256);
    }

    public async Task<SkillList> ListAsync(Caller caller, CancellationToken cancellationToken)
    {
        var rows = await store.ListAsync(caller.WorkspaceId, cancellationToken);
        var directory = await agents.DirectoryAsync(caller.WorkspaceId, cancellationToken);
        var unmet = await eligibility.UnmetAsync(caller.WorkspaceId, [.. rows.Select(row => SkillRows.Requirements(row))], cancellationToken);
        return new([.. rows.Select((row, i) => SkillRows.ToInstalled(row,
            [.. directory.Agents.Where(a => a.Agent.HasSkill(row.Name)).Select(a => a.Agent.Name)], unmet[i]))]);
    }

    public async Task<InstalledSkill> GetAsync(Caller caller, string name, CancellationToken cancellationToken) =>
        (await ListAsync(caller, cancellationToken)).Skills.FirstOrDefault(skill => skill.Name == name) ?? throw ApiProblem.NotFound("skill", name);

    /// <summary>The eligible skills an agent has, as its prompt lists them.</summary>
    public async Task<IReadOnlyList<PromptSkill>> ForPromptAsync(string workspaceId, AgentDefinition agent, CancellationToken cancellationToken)
    {
        var rows = (await store.ListAsync(workspaceId, cancellationToken)).Where(row => agent.HasSkill(row.Name)).ToList();
        var unmet = await eligibility.UnmetAsync(workspaceId, [.. rows.Select(SkillRows.Requirements)], cancellationToken);
        return [.. rows.Where((_, i) => unmet[i].Count == 0).Select(row => new PromptSkill(row.Name, SkillPrompt.Summary(row.Description)))];
    }

    /// <summary>
    /// A text file of a skill the agent has (SKILL.md by default), read from the verified archive; null when the agent has no
    /// such skill or the skill no such file. Cut at <paramref name="maxChars"/>.
    /// </summary>
    public async Task<string?> ReadFileAsync(string workspaceId, AgentDefinition agent, string name, string path, int maxChars, CancellationToken cancellationToken)
    {
        if (!agent.HasSkill(name))
        {
            return null;
        }
        var archive = await store.ArchiveAsync(workspaceId, name, cancellationToken);
        return archive is null ? null : SkillArchiveReader.ReadText(archive, path, limits, maxChars);
    }

    private async Task<SkillInstallResult> PutAsync(Caller caller, SkillRegistryConfig registry, string name, RegistrySkillVersion version,
        SkillRow? existing, bool acknowledged, CancellationToken cancellationToken)
    {
        var url = registry.Url.ToString();
        if (existing is not null && existing.RegistryUrl == url && existing.Version == version.Version && existing.Sha256 == version.Sha256)
        {
            return new SkillInstallResult("unchanged", await GetAsync(caller, name, cancellationToken), existing.Version);
        }
        if (await store.PinAsync(caller.WorkspaceId, url, name, version.Version, cancellationToken) is { } pinned && pinned != version.Sha256)
        {
            throw Tampered(registry, name, version.Version, pinned, version.Sha256);
        }
        if (version.Size > limits.MaxCompressedBytes)
        {
            throw SkillProblems.Refused(SkillProblems.Blocked, "The skill was refused.", $"'{name}' {version.Version} was not installed.",
                [SkillReason.Block("too_large", $"the registry lists the archive at {version.Size} bytes, over the {limits.MaxCompressedBytes} byte limit", null)]);
        }
        byte[] archive;
        try
        {
            archive = await client.DownloadAsync(registry, version, limits.MaxCompressedBytes, cancellationToken);
        }
        catch (SkillRegistryException failure)
        {
            throw SkillProblems.Fetch(registry, failure);
        }
        var inspection = SkillInspector.Inspect(new MemoryStream(archive, writable: false), version.Sha256, limits);
        var reasons = inspection.Reasons.ToList();
        if (inspection.Manifest is { } manifest && manifest.Name != name)
        {
            reasons.Add(SkillReason.Block("name_mismatch", $"SKILL.md names the skill '{manifest.Name}', but the registry lists it as '{name}'", SkillInspector.ManifestPath));
        }
        Judge(registry, name, version.Version, reasons, acknowledged);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var row = SkillRows.From(caller, registry, name, version, inspection, reasons, existing?.InstalledAt ?? now, now);
        var (result, pin) = await store.SaveAsync(row, Convert.ToBase64String(archive), cancellationToken);
        return result switch
        {
            SkillStore.SaveResult.Tampered => throw Tampered(registry, name, version.Version, pin!, version.Sha256),
            SkillStore.SaveResult.TooMany => throw ApiProblem.Conflict(SkillProblems.LimitReached,
                $"A workspace holds at most {SkillStore.MaxPerWorkspace} skills; uninstall one first."),
            _ => new SkillInstallResult(existing is null ? "installed" : "upgraded", await GetAsync(caller, name, cancellationToken), existing?.Version),
        };
    }

    /// <summary>Refuses a blocked archive; a warned one needs a trusted registry and the caller's acknowledgement.</summary>
    private static void Judge(SkillRegistryConfig registry, string name, string version, List<SkillReason> reasons, bool acknowledged)
    {
        var verdict = reasons.Count == 0 ? SkillVerdict.Clean : reasons.Max(r => r.Severity);
        var what = $"'{name}' {version} from registry '{registry.Name}' was not installed; nothing was written.";
        if (verdict == SkillVerdict.Block)
        {
            throw SkillProblems.Refused(SkillProblems.Blocked, "The skill was refused.", what + " The inspection blocked it:", reasons);
        }
        if (verdict == SkillVerdict.Warn && registry.Trust != SkillTrust.Trusted)
        {
            throw SkillProblems.Refused(SkillProblems.Blocked, "The skill was refused.",
                what + $" Its inspection warns, and registry '{registry.Name}' is not trusted: a skill with warnings installs only from a registry " +
                "whose trust is 'trusted'. The warnings:", reasons);
        }
        if (verdict == SkillVerdict.Warn && !acknowledged)
        {
            throw SkillProblems.Refused(SkillProblems.WarningsNotAcknowledged, "The skill's inspection warns.",
                what + " Read the warnings; to install it anyway, ask again with acknowledgeWarnings: true. The warnings:", reasons);
        }
    }

    private static ApiProblem Tampered(SkillRegistryConfig registry, string name, string version, string pinned, string offered) =>
        ApiProblem.Conflict(SkillProblems.Tampered,
            $"Registry '{registry.Name}' now lists '{name}' {version} with SHA-256 {offered}, but this workspace pinned that version to {pinned} " +
            "when it first installed it. The same version with other bytes is refused as tampering; nothing was written.");

    private async Task<(SkillRegistryConfig Registry, RegistrySkill Skill)> FindAsync(IReadOnlyList<SkillRegistryConfig> registries, string name,
        CancellationToken cancellationToken)
    {
        var failures = new List<(SkillRegistryConfig Registry, SkillRegistryException Failure)>();
        foreach (var registry in registries)
        {
            try
            {
                if ((await client.IndexAsync(registry, cancellationToken, fresh: true)).Skills.FirstOrDefault(s => s.Name == name && s.Newest is not null) is { } skill)
                {
                    return (registry, skill);
                }
            }
            catch (SkillRegistryException failure)
            {
                failures.Add((registry, failure));
            }
        }
        if (failures.Count > 0)
        {
            throw SkillProblems.Fetch(failures[0].Registry, failures[0].Failure);
        }
        throw new ApiProblem(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "No such skill.",
            $"No registry ({string.Join(", ", registries.Select(r => r.Name))}) offers a skill '{name}'. skills_browse searches them.");
    }

    private static RegistrySkillVersion Choose(RegistrySkill skill, string? version) => version is null
        ? skill.Newest!
        : skill.Find(version) ?? throw new ApiProblem(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "No such version.",
            $"'{skill.Name}' has no version {version}; it has {string.Join(", ", skill.Versions.Select(v => v.Version))}.");

    private async Task<RegistryIndex?> TryIndexAsync(SkillRegistryConfig registry, CancellationToken cancellationToken)
    {
        try
        {
            return await client.IndexAsync(registry, cancellationToken);
        }
        catch (SkillRegistryException)
        {
            return null; // Status has the error; the result lists the registry as unavailable
        }
    }

    private async Task<IReadOnlyList<SkillRegistryConfig>> RegistriesOfAsync(string workspaceId, CancellationToken cancellationToken) =>
        SkillRegistrySettings.From(await config.DocumentAsync(workspaceId, cancellationToken));

    private static IReadOnlyList<SkillRegistryConfig> Only(IReadOnlyList<SkillRegistryConfig> registries, string? name) =>
        name is null ? registries : [registries.FirstOrDefault(r => r.Name == name) ?? throw SkillProblems.UnknownRegistry(name)];

    private SkillRegistryEntry Entry(SkillRegistryConfig registry)
    {
        var status = client.Status(registry);
        return new SkillRegistryEntry
        {
            Name = registry.Name,
            Url = status.Url,
            Trust = SkillRows.Trust(registry.Trust),
            Answered = status.Answered,
            LastFetchAt = status.LastFetchAt,
            Error = status.Error,
            Skills = status.SkillCount,
        };
    }

    private static BrowsedSkill Browsed(SkillRegistryConfig registry, RegistrySkill skill, string? installed, bool detail) => new()
    {
        Name = skill.Name,
        Registry = registry.Name,
        Trust = SkillRows.Trust(registry.Trust),
        Summary = skill.Summary,
        Publisher = skill.Publisher,
        Newest = skill.Newest!.Version,
        Installed = installed,
        Versions = detail ? [.. skill.Versions.Select(SkillRows.VersionEntry)] : null,
    };

    private static bool Matches(RegistrySkill skill, string word) =>
        skill.Name.Contains(word, StringComparison.OrdinalIgnoreCase) || skill.Summary.Contains(word, StringComparison.OrdinalIgnoreCase)
        || (skill.Publisher?.Contains(word, StringComparison.OrdinalIgnoreCase) ?? false);

    internal static string ValidName(string? name) => name is not null && NamePattern().IsMatch(name)
        ? name
        : throw ApiProblem.Invalid("name", "name must be a skill name: 1-64 characters of a-z, 0-9 and '-', starting with a letter or digit.");

    private static string? ValidVersion(string? version) => version is null || VersionPattern().IsMatch(version)
        ? version
        : throw ApiProblem.Invalid("version", $"version must be 1-{MaxVersionLength} characters of letters, digits, '.', '-' and '+'.");

    [GeneratedRegex(SkillManifest.NamePattern)]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z0-9.+-]{1,64}$")]
    private static partial Regex VersionPattern();
}
