using System.Text.RegularExpressions;

namespace Kennel.ControlPlane.Skills;

/// <summary>
/// Stage 4: the front matter of SKILL.md, a strict subset of YAML. Top-level <c>key: value</c> scalars (quoted or not),
/// and a <c>requires:</c> map whose <c>programs</c> and <c>env</c> are lists, written <c>[a, b]</c> or as <c>- a</c>
/// lines. Anything else that is indented, a duplicate key or a missing closing <c>---</c> is an error, not a guess.
/// </summary>
internal static partial class SkillManifestParser
{
    public const int MaxDescriptionLength = 1024;

    /// <summary>A requirement: a program or an environment variable's name.</summary>
    public const string RequirementPattern = "^[A-Za-z0-9_.+-]{1,128}$";

    /// <summary>The manifest, or the reason it was refused (code <c>bad_manifest</c>).</summary>
    public static (SkillManifest? Manifest, string? Error) Parse(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        if (lines[0].Trim() != "---")
        {
            return (null, "SKILL.md does not start with a '---' front matter line");
        }
        var close = Array.FindIndex(lines, 1, l => l.Trim() == "---");
        if (close < 0)
        {
            return (null, "the front matter has no closing '---' line");
        }
        var scalars = new Dictionary<string, string>(StringComparer.Ordinal);
        var lists = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        string? section = null;
        string? list = null;
        for (var i = 1; i < close; i++)
        {
            var line = lines[i];
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
            {
                continue;
            }
            var indent = line.Length - line.TrimStart().Length;
            var content = line.Trim();
            if (indent == 0)
            {
                if (KeyValue().Match(content) is not { Success: true } top)
                {
                    return (null, $"front matter line {i + 1} is not 'key: value'");
                }
                var key = top.Groups[1].Value;
                var value = top.Groups[2].Value.Trim();
                section = key == "requires" && value.Length == 0 ? key : null;
                list = null;
                if (section is null && !scalars.TryAdd(key, Unquote(value)))
                {
                    return (null, $"the key '{key}' appears twice");
                }
                continue;
            }
            if (section is null)
            {
                return (null, $"front matter line {i + 1} is indented outside 'requires'");
            }
            if (content.StartsWith("- ", StringComparison.Ordinal) && list is not null)
            {
                lists[list].Add(Unquote(content[2..].Trim()));
                continue;
            }
            if (KeyValue().Match(content) is not { Success: true } nested || nested.Groups[1].Value is not ("programs" or "env") || lists.ContainsKey(nested.Groups[1].Value))
            {
                return (null, $"front matter line {i + 1}: 'requires' holds only 'programs' and 'env', once each");
            }
            list = nested.Groups[1].Value;
            lists[list] = FlowList(nested.Groups[2].Value.Trim()) is { } items ? items : [];
            if (nested.Groups[2].Value.Trim().Length > 0 && lists[list].Count == 0 && nested.Groups[2].Value.Trim() != "[]")
            {
                return (null, $"front matter line {i + 1}: '{list}' must be a list");
            }
        }
        return Validate(scalars, lists);
    }

    private static (SkillManifest?, string?) Validate(Dictionary<string, string> scalars, Dictionary<string, List<string>> lists)
    {
        if (!scalars.TryGetValue("name", out var name) || !SkillName().IsMatch(name))
        {
            return (null, "'name' must be 1-64 characters of a-z, 0-9 and '-'");
        }
        if (!scalars.TryGetValue("description", out var description) || description.Length == 0)
        {
            return (null, "'description' is required");
        }
        if (description.Length > MaxDescriptionLength)
        {
            return (null, $"'description' is longer than {MaxDescriptionLength} characters");
        }
        var programs = lists.GetValueOrDefault("programs") ?? [];
        var env = lists.GetValueOrDefault("env") ?? [];
        if (programs.Concat(env).Any(item => !Requirement().IsMatch(item)))
        {
            return (null, "each requirement must be a plain program or variable name");
        }
        var version = scalars.GetValueOrDefault("version");
        return (new SkillManifest(name, description, string.IsNullOrEmpty(version) ? null : version, new SkillRequirements(programs, env)), null);
    }

    private static List<string>? FlowList(string value) =>
        value.StartsWith('[') && value.EndsWith(']')
            ? value[1..^1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Unquote).ToList()
            : null;

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0] ? value[1..^1] : value;

    [GeneratedRegex(@"^([A-Za-z][A-Za-z0-9_-]*):(?:\s+(.*))?$")]
    private static partial Regex KeyValue();

    [GeneratedRegex(SkillManifest.NamePattern)]
    private static partial Regex SkillName();

    [GeneratedRegex(RequirementPattern)]
    private static partial Regex Requirement();
}
