namespace Kennel.ControlPlane.Skills;

/// <summary>A row of <c>skills</c>, without the archive (read apart, only when a skill's files are needed).</summary>
public sealed class SkillRow
{
    public string WorkspaceId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Registry { get; set; } = "";
    public string RegistryUrl { get; set; } = "";
    public string Version { get; set; } = "";
    public string Sha256 { get; set; } = "";
    public long Size { get; set; }
    public string? Publisher { get; set; }
    public string Verdict { get; set; } = "";
    public string Reasons { get; set; } = "[]";
    public string Description { get; set; } = "";
    public string Requires { get; set; } = "{}";
    public string Files { get; set; } = "[]";
    public string? InstalledBy { get; set; }
    public long InstalledAt { get; set; }
    public long UpdatedAt { get; set; }
}
