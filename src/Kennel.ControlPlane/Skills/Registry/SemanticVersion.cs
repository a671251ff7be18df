using System.Text.RegularExpressions;

namespace Kennel.ControlPlane.Skills.Registry;

/// <summary>
/// A Semantic Versioning 2.0.0 version, ordered by its precedence rules: numbers numerically, a pre-release below its
/// release, build metadata ignored. Numbers compare as digit strings (no leading zeros), so none can overflow.
/// </summary>
internal sealed partial class SemanticVersion : IComparable<SemanticVersion>
{
    public const int MaxLength = 64;

    private readonly string[] core;
    private readonly string[] preRelease;

    private SemanticVersion(string[] core, string[] preRelease)
    {
        this.core = core;
        this.preRelease = preRelease;
    }

    /// <summary>The version, or null when <paramref name="text"/> is not a semantic version of at most <see cref="MaxLength"/> characters.</summary>
    public static SemanticVersion? Parse(string? text)
    {
        if (text is null || text.Length > MaxLength || Pattern().Match(text) is not { Success: true } match)
        {
            return null;
        }
        var pre = match.Groups["pre"].Success ? match.Groups["pre"].Value.Split('.') : [];
        return new SemanticVersion([match.Groups["major"].Value, match.Groups["minor"].Value, match.Groups["patch"].Value], pre);
    }

    /// <summary>Whether this is a release, not a pre-release.</summary>
    public bool IsRelease => preRelease.Length == 0;

    public int CompareTo(SemanticVersion? other)
    {
        if (other is null)
        {
            return 1;
        }
        for (var i = 0; i < core.Length; i++)
        {
            if (CompareNumbers(core[i], other.core[i]) is not 0 and var byNumber)
            {
                return byNumber;
            }
        }
        if (preRelease.Length == 0 || other.preRelease.Length == 0)
        {
            return other.preRelease.Length.CompareTo(preRelease.Length);
        }
        for (var i = 0; i < Math.Min(preRelease.Length, other.preRelease.Length); i++)
        {
            if (CompareIdentifiers(preRelease[i], other.preRelease[i]) is not 0 and var byIdentifier)
            {
                return byIdentifier;
            }
        }
        return preRelease.Length.CompareTo(other.preRelease.Length);
    }

    private static int CompareIdentifiers(string left, string right)
    {
        var leftNumeric = left.All(char.IsAsciiDigit);
        var rightNumeric = right.All(char.IsAsciiDigit);
        return (leftNumeric, rightNumeric) switch
        {
            (true, true) => CompareNumbers(left, right),
            (true, false) => -1,
            (false, true) => 1,
            _ => string.CompareOrdinal(left, right),
        };
    }

    private static int CompareNumbers(string left, string right) =>
        left.Length != right.Length ? left.Length.CompareTo(right.Length) : string.CompareOrdinal(left, right);

    [GeneratedRegex(@"^(?<major>0|[1-9][0-9]*)\.(?<minor>0|[1-9][0-9]*)\.(?<patch>0|[1-9][0-9]*)(?:-(?<pre>(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$")]
    private static partial Regex Pattern();
}
