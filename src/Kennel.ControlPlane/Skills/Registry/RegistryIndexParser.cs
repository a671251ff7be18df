using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kennel.ControlPlane.Skills.Registry;

/// <summary>
/// Reads a registry's <c>index.json</c> (format 1, docs/skills-registry.md) strictly: one bad entry makes the whole index
/// <c>registry_invalid</c>, with a message that names the entry and the field, so a publisher sees the mistake at once
/// and a tampered entry never hides among good ones. Properties Kennel does not know are refused unless they start with
/// <c>x-</c>.
/// </summary>
public static partial class RegistryIndexParser
{
    public const int FormatVersion = 1;
    public const string FormatProperty = "kennelSkillRegistry";
    public const int MaxSkills = 2000;
    public const int MaxVersions = 100;
    public const int MaxSummaryLength = SkillManifestParser.MaxDescriptionLength;
    public const int MaxPublisherLength = 128;
    public const int MaxUrlLength = 2048;
    public const int MaxRequirements = 32;

    private static readonly JsonDocumentOptions Strict = new() { MaxDepth = 16, AllowDuplicateProperties = false };

    /// <summary>The index in <paramref name="json"/>, its relative archive URLs resolved against <paramref name="indexUrl"/>.</summary>
    public static RegistryIndex Parse(ReadOnlyMemory<byte> json, Uri indexUrl)
    {
        ArgumentNullException.ThrowIfNull(indexUrl);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, Strict);
        }
        catch (JsonException bad)
        {
            throw Invalid($"the index is not valid JSON ({bad.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            Expect(root, JsonValueKind.Object, "the index");
            Known(root, "the index", FormatProperty, "skills");
            if (!root.TryGetProperty(FormatProperty, out var format) || format.ValueKind != JsonValueKind.Number
                || !format.TryGetInt32(out var formatVersion))
            {
                throw Invalid($"the index has no '{FormatProperty}' format number");
            }
            if (formatVersion != FormatVersion)
            {
                throw Invalid($"the index is in format {formatVersion}; this Kennel reads format {FormatVersion}");
            }
            var skills = Array(root, "skills", "the index", MaxSkills);
            var parsed = new List<RegistrySkill>(skills.Count);
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < skills.Count; i++)
            {
                var skill = Skill(skills[i], $"skills[{i}]", indexUrl);
                if (!names.Add(skill.Name))
                {
                    throw Invalid($"skills[{i}]: the skill '{skill.Name}' is listed twice");
                }
                parsed.Add(skill);
            }
            return new RegistryIndex(parsed);
        }
    }

    private static RegistrySkill Skill(JsonElement skill, string where, Uri indexUrl)
    {
        Expect(skill, JsonValueKind.Object, where);
        Known(skill, where, "name", "summary", "publisher", "versions");
        var name = Text(skill, "name", where, 64, required: true)!;
        if (!SkillName().IsMatch(name))
        {
            throw Invalid($"{where}.name: '{Shown(name)}' is not a skill name (1-64 characters of a-z, 0-9 and '-', starting with a letter or digit)");
        }
        where = $"{where} ('{name}')";
        var summary = Text(skill, "summary", where, MaxSummaryLength, required: true)!;
        var publisher = Text(skill, "publisher", where, MaxPublisherLength, required: false);
        var versions = Array(skill, "versions", where, MaxVersions);
        var parsed = new List<RegistrySkillVersion>(versions.Count);
        var seen = new List<SemanticVersion>();
        for (var i = 0; i < versions.Count; i++)
        {
            var (version, precedence) = Version(versions[i], $"{where}.versions[{i}]", indexUrl, summary, publisher);
            if (seen.Any(other => other.CompareTo(precedence) == 0))
            {
                throw Invalid($"{where}.versions[{i}]: the version {version.Version} is listed twice");
            }
            seen.Add(precedence);
            parsed.Add(version);
        }
        return new RegistrySkill(name, summary, publisher, parsed);
    }

    private static (RegistrySkillVersion, SemanticVersion) Version(JsonElement version, string where, Uri indexUrl, string skillSummary, string? skillPublisher)
    {
        Expect(version, JsonValueKind.Object, where);
        Known(version, where, "version", "archive", "sha256", "size", "publisher", "summary", "requires", "published");
        var text = Text(version, "version", where, SemanticVersion.MaxLength + 1, required: true)!;
        var precedence = SemanticVersion.Parse(text)
            ?? throw Invalid($"{where}.version: '{Shown(text)}' is not a semantic version such as 1.2.0 (at most {SemanticVersion.MaxLength} characters)");
        where = $"{where} ({text})";
        var archive = Archive(Text(version, "archive", where, MaxUrlLength, required: true)!, where, indexUrl);
        var sha256 = Text(version, "sha256", where, 64, required: true)!;
        if (!Sha256().IsMatch(sha256))
        {
            throw Invalid($"{where}.sha256: the SHA-256 is 64 lower-case hex digits");
        }
        if (!version.TryGetProperty("size", out var sizeElement) || !sizeElement.TryGetInt64(out var size) || size <= 0)
        {
            throw Invalid($"{where}.size: the archive's size in bytes is a whole number above 0");
        }
        var publisher = Text(version, "publisher", where, MaxPublisherLength, required: false) ?? skillPublisher;
        var summary = Text(version, "summary", where, MaxSummaryLength, required: false) ?? skillSummary;
        var requires = Requires(version, where);
        DateTimeOffset? published = null;
        if (Text(version, "published", where, 64, required: false) is { } when)
        {
            published = DateTimeOffset.TryParse(when, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && when.Contains('T', StringComparison.Ordinal)
                ? at.ToUniversalTime()
                : throw Invalid($"{where}.published: '{Shown(when)}' is not an RFC 3339 date and time such as 2026-12-07T10:00:00Z");
        }
        return (new RegistrySkillVersion(text, archive, sha256, size, publisher, summary, requires, published), precedence);
    }

    /// <summary>
    /// A relative archive URL resolves against the index. An absolute one is https, http or file; whether Kennel may
    /// fetch it is decided at download time, by the same rules as the registry's own URL.
    /// </summary>
    private static Uri Archive(string text, string where, Uri indexUrl)
    {
        if (!Uri.TryCreate(indexUrl, text, out var archive) || archive.Scheme is not ("https" or "http" or "file"))
        {
            throw Invalid($"{where}.archive: '{Shown(text)}' is not a relative URL or an https, http or file URL");
        }
        if (archive.UserInfo.Length > 0 || archive.Fragment.Length > 0)
        {
            throw Invalid($"{where}.archive: an archive URL carries no user name, password or #fragment");
        }
        return archive;
    }

    private static SkillRequirements Requires(JsonElement version, string where)
    {
        if (!version.TryGetProperty("requires", out var requires) || requires.ValueKind == JsonValueKind.Null)
        {
            return SkillRequirements.None;
        }
        where = $"{where}.requires";
        Expect(requires, JsonValueKind.Object, where);
        Known(requires, where, "programs", "env");
        return new SkillRequirements(Names(requires, "programs", where), Names(requires, "env", where));
    }

    private static List<string> Names(JsonElement requires, string property, string where)
    {
        if (!requires.TryGetProperty(property, out _))
        {
            return [];
        }
        var items = Array(requires, property, where, MaxRequirements);
        var names = new List<string>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].ValueKind != JsonValueKind.String || items[i].GetString() is not { } item || !Requirement().IsMatch(item))
            {
                throw Invalid($"{where}.{property}[{i}]: each requirement is a plain program or variable name");
            }
            names.Add(item);
        }
        return names;
    }

    private static List<JsonElement> Array(JsonElement parent, string property, string where, int max)
    {
        if (!parent.TryGetProperty(property, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw Invalid($"{where}: '{property}' must be an array");
        }
        if (array.GetArrayLength() > max)
        {
            throw Invalid($"{where}: '{property}' holds more than {max} entries");
        }
        return [.. array.EnumerateArray()];
    }

    private static string? Text(JsonElement parent, string property, string where, int maxLength, bool required)
    {
        if (!parent.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return required ? throw Invalid($"{where}: '{property}' is required") : null;
        }
        if (value.ValueKind != JsonValueKind.String || value.GetString() is not { } text)
        {
            throw Invalid($"{where}.{property}: must be a string");
        }
        if (text.Length == 0 || text.Length > maxLength)
        {
            throw Invalid($"{where}.{property}: must be 1 to {maxLength} characters");
        }
        if (text.Any(char.IsControl))
        {
            throw Invalid($"{where}.{property}: holds a control character");
        }
        return text;
    }

    private static void Expect(JsonElement element, JsonValueKind kind, string where)
    {
        if (element.ValueKind != kind)
        {
            throw Invalid($"{where}: must be a JSON {kind.ToString().ToLowerInvariant()}");
        }
    }

    private static void Known(JsonElement element, string where, params string[] names)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (!names.Contains(property.Name, StringComparer.Ordinal) && !property.Name.StartsWith("x-", StringComparison.Ordinal))
            {
                throw Invalid($"{where}: unknown property '{Shown(property.Name)}' (extensions start with 'x-')");
            }
        }
    }

    /// <summary>Index text quoted back in a message, cut short so a hostile index cannot flood logs or answers.</summary>
    private static string Shown(string text)
    {
        var printable = new string([.. text.Take(81).Select(c => char.IsControl(c) ? '?' : c)]);
        return printable.Length <= 80 ? printable : printable[..80] + "…";
    }

    private static SkillRegistryException Invalid(string message) => new(SkillRegistryErrors.Invalid, message);

    [GeneratedRegex(SkillManifest.NamePattern)]
    private static partial Regex SkillName();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256();

    [GeneratedRegex(SkillManifestParser.RequirementPattern)]
    private static partial Regex Requirement();
}
