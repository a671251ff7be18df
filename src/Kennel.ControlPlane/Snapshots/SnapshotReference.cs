using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Kennel.ControlPlane.Snapshots;

/// <summary>
/// How a session, a daemon or a recipe names a snapshot: <c>python</c> (the tag <c>latest</c>), <c>python:3.12</c>, or
/// <c>python@sha256:…</c> (that image, whatever the tags say).
/// </summary>
public sealed partial record SnapshotReference(string Name, string? Tag, string? Digest)
{
    public const string DefaultTag = "latest";

    public static bool TryParse(string? text, [NotNullWhen(true)] out SnapshotReference? reference)
    {
        reference = null;
        if (text is null || text.Length > 300)
        {
            return false;
        }
        var match = Pattern().Match(text);
        if (!match.Success)
        {
            return false;
        }
        reference = new SnapshotReference(
            match.Groups["name"].Value,
            match.Groups["digest"].Success ? null : match.Groups["tag"].Success ? match.Groups["tag"].Value : DefaultTag,
            match.Groups["digest"].Success ? match.Groups["digest"].Value : null);
        return true;
    }

    public static bool IsName(string? name) => name is not null && NamePattern().IsMatch(name);

    public static bool IsTag(string? tag) => tag is not null && TagPattern().IsMatch(tag);

    public override string ToString() => Digest is not null ? $"{Name}@sha256:{Digest}" : $"{Name}:{Tag}";

    [GeneratedRegex("^(?<name>[a-z0-9][a-z0-9._-]{0,62})(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9._-]{0,127})|@sha256:(?<digest>[0-9a-f]{64}))?$")]
    private static partial Regex Pattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex TagPattern();
}
