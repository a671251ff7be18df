using System.Globalization;
using Kennel.Sandbox;

namespace Kennel.Worker;

/// <summary>The host uids a root worker's sandboxes run as, one per live sandbox, written <c>FIRST-LAST</c>.</summary>
public sealed record SandboxUidRange(int First, int Count)
{
    public static SandboxUidRange Default { get; } = new(BubblewrapOptions.DefaultFirstHostUid, BubblewrapOptions.DefaultHostUidCount);

    public int Last => First + Count - 1;

    public static bool TryParse(string value, out SandboxUidRange range)
    {
        range = Default;
        var parts = value.Split('-');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            || first < 1 || last < first || last == int.MaxValue)
        {
            return false;
        }
        range = new SandboxUidRange(first, last - first + 1);
        return true;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{First}-{Last}");
}
