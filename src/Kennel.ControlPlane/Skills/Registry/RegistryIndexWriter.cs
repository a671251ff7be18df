using System.Globalization;
using System.Text.Json;

namespace Kennel.ControlPlane.Skills.Registry;

/// <summary>
/// Writes an index in format 1, the inverse of <see cref="RegistryIndexParser"/>: archives under the index's folder are
/// written relative to it, so the folder can be served from anywhere; newest versions first.
/// </summary>
public static class RegistryIndexWriter
{
    public static byte[] Write(RegistryIndex index, Uri indexUrl)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(indexUrl);
        using var output = new MemoryStream();
        using (var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber(RegistryIndexParser.FormatProperty, RegistryIndexParser.FormatVersion);
            json.WriteStartArray("skills");
            foreach (var skill in index.Skills.OrderBy(skill => skill.Name, StringComparer.Ordinal))
            {
                json.WriteStartObject();
                json.WriteString("name", skill.Name);
                json.WriteString("summary", skill.Summary);
                WriteOptional(json, "publisher", skill.Publisher);
                json.WriteStartArray("versions");
                foreach (var version in skill.Versions.OrderByDescending(version => SemanticVersion.Parse(version.Version)))
                {
                    WriteVersion(json, skill, version, indexUrl);
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        output.WriteByte((byte)'\n');
        return output.ToArray();
    }

    private static void WriteVersion(Utf8JsonWriter json, RegistrySkill skill, RegistrySkillVersion version, Uri indexUrl)
    {
        json.WriteStartObject();
        json.WriteString("version", version.Version);
        json.WriteString("archive", ArchiveText(version.Archive, indexUrl));
        json.WriteString("sha256", version.Sha256);
        json.WriteNumber("size", version.Size);
        WriteOptional(json, "publisher", version.Publisher == skill.Publisher ? null : version.Publisher);
        WriteOptional(json, "summary", version.Summary == skill.Summary ? null : version.Summary);
        json.WriteStartObject("requires");
        WriteNames(json, "programs", version.Requires.Programs);
        WriteNames(json, "env", version.Requires.Env);
        json.WriteEndObject();
        WriteOptional(json, "published", version.Published?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        json.WriteEndObject();
    }

    private static string ArchiveText(Uri archive, Uri indexUrl)
    {
        var folder = new Uri(indexUrl, ".");
        return folder.IsBaseOf(archive) && string.Equals(folder.GetLeftPart(UriPartial.Authority), archive.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal)
            ? folder.MakeRelativeUri(archive).OriginalString
            : archive.AbsoluteUri;
    }

    private static void WriteNames(Utf8JsonWriter json, string property, IReadOnlyList<string> names)
    {
        json.WriteStartArray(property);
        foreach (var name in names)
        {
            json.WriteStringValue(name);
        }
        json.WriteEndArray();
    }

    private static void WriteOptional(Utf8JsonWriter json, string property, string? value)
    {
        if (value is not null)
        {
            json.WriteString(property, value);
        }
    }
}
