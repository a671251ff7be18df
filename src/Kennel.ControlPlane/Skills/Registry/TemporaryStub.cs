// TEMPORARY: the skillreg branch replaces this file's types. Deleted before that merge.
using System.Text.Json.Nodes;

namespace Kennel.ControlPlane.Skills.Registry;

public enum SkillTrust { Untrusted, Trusted }

public sealed record SkillRegistryConfig(string Name, Uri Url, SkillTrust Trust);

public sealed record RegistryIndex(IReadOnlyList<RegistrySkill> Skills);

public sealed record RegistrySkill(string Name, string Summary, string? Publisher, IReadOnlyList<RegistrySkillVersion> Versions)
{
    public RegistrySkillVersion? Newest => Versions.Count == 0 ? null : Versions[^1];

    public RegistrySkillVersion? Find(string version) => Versions.FirstOrDefault(v => v.Version == version);
}

public sealed record RegistrySkillVersion(string Version, Uri Archive, string Sha256, long Size, string? Publisher, string Summary,
    SkillRequirements Requires, DateTimeOffset? Published);

public sealed record RegistryStatus(string Name, string Url, SkillTrust Trust, bool? Answered, DateTimeOffset? LastFetchAt, string? Error, int? SkillCount);

public sealed class SkillRegistryException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

public sealed class SkillRegistryClient
{
    public Task<RegistryIndex> IndexAsync(SkillRegistryConfig registry, CancellationToken ct) => throw new NotImplementedException();

    public Task<byte[]> DownloadAsync(SkillRegistryConfig registry, RegistrySkillVersion version, long maxBytes, CancellationToken ct) =>
        throw new NotImplementedException();

    public RegistryStatus Status(SkillRegistryConfig registry) => throw new NotImplementedException();
}

public static class SkillRegistrySettings
{
    public static IReadOnlyList<SkillRegistryConfig> From(JsonObject workspaceConfigDocument) => throw new NotImplementedException();
}
