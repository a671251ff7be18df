using System.Text.Json;
using System.Text.Json.Serialization;
using Kennel.Contracts.Skills;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Skills.Registry;

namespace Kennel.ControlPlane.Skills;

/// <summary>The mapping between a <see cref="SkillRow"/>'s JSON columns, the inspection, and the API's <see cref="InstalledSkill"/>.</summary>
internal static class SkillRows
{
    public static SkillRow From(Caller caller, SkillRegistryConfig registry, string name, RegistrySkillVersion version, SkillInspection inspection,
        IReadOnlyList<SkillReason> reasons, long installedAt, long now) => new()
        {
            WorkspaceId = caller.WorkspaceId,
            Name = name,
            Registry = registry.Name,
            RegistryUrl = registry.Url.ToString(),
            Version = version.Version,
            Sha256 = version.Sha256.ToLowerInvariant(),
            Size = version.Size,
            Publisher = version.Publisher,
            Verdict = reasons.Count == 0 ? "clean" : "warn",
            Reasons = JsonSerializer.Serialize([.. reasons.Select(Finding)], SkillRowJson.Default.SkillFindingArray),
            Description = inspection.Manifest!.Description,
            Requires = JsonSerializer.Serialize(Requires(inspection.Manifest.Requires), SkillRowJson.Default.SkillRequires),
            Files = JsonSerializer.Serialize([.. inspection.Files.Select(f => f.Path)], SkillRowJson.Default.StringArray),
            InstalledBy = caller.CredentialId,
            InstalledAt = installedAt,
            UpdatedAt = now,
        };

    public static InstalledSkill ToInstalled(SkillRow row, IReadOnlyList<string> agents, IReadOnlyList<string> unmet) => new()
    {
        Name = row.Name,
        Description = row.Description,
        Version = row.Version,
        Registry = row.Registry,
        RegistryUrl = row.RegistryUrl,
        Sha256 = row.Sha256,
        Size = row.Size,
        Publisher = row.Publisher,
        Verdict = row.Verdict,
        Findings = JsonSerializer.Deserialize(row.Reasons, SkillRowJson.Default.SkillFindingArray) ?? [],
        Requires = RequiresOf(row),
        Agents = agents,
        Eligible = unmet.Count == 0,
        Unmet = unmet,
        Files = (JsonSerializer.Deserialize(row.Files, SkillRowJson.Default.StringArray) ?? []).Length,
        InstalledBy = row.InstalledBy,
        InstalledAt = DateTimeOffset.FromUnixTimeMilliseconds(row.InstalledAt),
        UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(row.UpdatedAt),
    };

    public static SkillRequirements Requirements(SkillRow row)
    {
        var requires = RequiresOf(row);
        return new SkillRequirements(requires.Programs, requires.Env);
    }

    public static SkillVersionEntry VersionEntry(RegistrySkillVersion version) => new()
    {
        Version = version.Version,
        Sha256 = version.Sha256,
        Size = version.Size,
        Publisher = version.Publisher,
        Summary = version.Summary,
        Requires = Requires(version.Requires),
        Published = version.Published,
    };

    public static string Trust(SkillTrust trust) => trust == SkillTrust.Trusted ? "trusted" : "untrusted";

    public static SkillFinding Finding(SkillReason reason) =>
        new(reason.Code, reason.Severity == SkillVerdict.Block ? "block" : "warn", reason.Message, reason.Path);

    private static SkillRequires Requires(SkillRequirements requirements) => new(requirements.Programs, requirements.Env);

    /// <summary>The row's requirements; a list the JSON leaves out reads as empty.</summary>
    private static SkillRequires RequiresOf(SkillRow row) =>
        JsonSerializer.Deserialize(row.Requires, SkillRowJson.Default.SkillRequires) is { } read
            ? new SkillRequires(read.Programs ?? [], read.Env ?? [])
            : new SkillRequires([], []);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SkillFinding[]))]
[JsonSerializable(typeof(SkillRequires))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class SkillRowJson : JsonSerializerContext;
