using System.Text.RegularExpressions;

namespace Kennel.Sandbox;

/// <summary>A skill the sandbox shows its workload read-only at <c>/skills/{Name}</c>: a folder on the host, extracted by the worker.</summary>
public sealed record SandboxSkill(string Name, string Directory);

/// <summary>
/// Binds a session's skills read-only under <c>/skills/</c>. bwrap makes <c>/skills</c> in the sandbox's root, which turns
/// read-only afterwards, so the workload can neither change a skill nor add one; with no skills there is no <c>/skills</c>.
/// </summary>
internal static partial class SandboxSkills
{
    public const string Root = "/skills/";
    public const int MaxSkills = 32;

    public static void Validate(IReadOnlyList<SandboxSkill> skills)
    {
        if (skills.Count > MaxSkills)
        {
            throw new SandboxException("invalid_spec", $"A sandbox mounts at most {MaxSkills} skills.");
        }
        foreach (var skill in skills)
        {
            if (!Name().IsMatch(skill.Name))
            {
                throw new SandboxException("invalid_spec", $"Skill name '{skill.Name}' must be 1-64 lower-case letters, digits and '-', starting with a letter or digit.");
            }
            if (!Path.IsPathFullyQualified(skill.Directory) || !System.IO.Directory.Exists(skill.Directory))
            {
                throw new SandboxException("invalid_spec", $"Skill '{skill.Name}' must be an existing folder given by its absolute path.");
            }
        }
        if (skills.Select(s => s.Name).Distinct(StringComparer.Ordinal).Count() != skills.Count)
        {
            throw new SandboxException("invalid_spec", "Each skill name may appear once.");
        }
    }

    /// <summary>bwrap arguments binding each skill; like the files' binds, they go before the root turns read-only.</summary>
    public static IEnumerable<string> MountArguments(IReadOnlyList<SandboxSkill> skills) =>
        skills.SelectMany(skill => new[] { "--ro-bind", skill.Directory, Root + skill.Name });

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex Name();
}
