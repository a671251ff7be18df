using System.Globalization;
using Kennel.Contracts.Skills;

namespace Kennel.ControlPlane.Mcp.AgentTools;

/// <summary>The text the skills tools answer with beside their structured content.</summary>
public static class SkillToolText
{
    public const string NameDescription = "A skill's name: 1-64 characters of a-z, 0-9 and '-'.";

    public static string Installed(InstalledSkill skill) => string.Concat(
        $"{skill.Name} {skill.Version} from {skill.Registry} (sha256 {skill.Sha256[..12]}…, {skill.Verdict}",
        skill.Findings.Count > 0 ? string.Create(CultureInfo.InvariantCulture, $", {skill.Findings.Count} warnings acknowledged") : "",
        $"): {skill.Description}",
        $"\n  agents: {(skill.Agents.Count == 0 ? "none" : string.Join(", ", skill.Agents))}",
        skill.Eligible ? "; eligible" : $"; not eligible: {string.Join("; ", skill.Unmet)}");

    public static string Registry(SkillRegistryEntry registry) => string.Concat(
        $"{registry.Name} ({registry.Trust}): {registry.Url}, ",
        registry.Answered switch
        {
            null => "not fetched yet",
            true => string.Create(CultureInfo.InvariantCulture, $"answered at {registry.LastFetchAt:u} with {registry.Skills} skills"),
            false => string.Create(CultureInfo.InvariantCulture, $"did not answer at {registry.LastFetchAt:u}: {registry.Error}"),
        });

    public static string Browsed(BrowsedSkill skill) => string.Concat(
        $"{skill.Name} {skill.Newest} ({skill.Registry}, {skill.Trust}", skill.Publisher is { } publisher ? $", by {publisher}" : "",
        skill.Installed is { } installed ? $", {installed} installed" : "", $"): {skill.Summary}",
        string.Concat((skill.Versions ?? []).Select(v => string.Create(CultureInfo.InvariantCulture,
            $"\n  {v.Version}: sha256 {v.Sha256[..12]}…, {v.Size} bytes{Requires(v.Requires)} — {v.Summary}"))));

    private static string Requires(SkillRequires requires) => requires.Programs.Count + requires.Env.Count == 0
        ? ""
        : $", needs {string.Join(", ", requires.Programs.Select(p => $"program {p}").Concat(requires.Env.Select(e => $"env {e}")))}";
}
