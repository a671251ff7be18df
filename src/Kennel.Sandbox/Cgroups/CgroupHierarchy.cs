using System.Globalization;
using System.Text;

namespace Kennel.Sandbox.Cgroups;

/// <summary>A mounted cgroup hierarchy and where this process sits in it.</summary>
/// <param name="MountPoint">Where the hierarchy is mounted, e.g. <c>/sys/fs/cgroup/memory</c>.</param>
/// <param name="IsUnified">True for cgroup v2 (the unified hierarchy), false for a v1 controller hierarchy.</param>
/// <param name="Controllers">The v1 controllers bound to this hierarchy; empty for v2, whose controllers are listed in its files.</param>
/// <param name="OwnPath">This process's cgroup path inside the hierarchy, relative to the mount point.</param>
internal sealed record CgroupHierarchy(string MountPoint, bool IsUnified, IReadOnlySet<string> Controllers, string OwnPath)
{
    public string OwnDirectory => Path.Join(MountPoint, OwnPath);

    /// <summary>Pairs the cgroup mounts of <c>/proc/self/mountinfo</c> with the lines of <c>/proc/self/cgroup</c>.</summary>
    public static IReadOnlyList<CgroupHierarchy> Parse(string mountInfo, string selfCgroup)
    {
        var mounts = ParseMounts(mountInfo);
        var hierarchies = new List<CgroupHierarchy>();
        foreach (var line in selfCgroup.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // hierarchy-id:controller-list:path; the path may itself contain ':'.
            var parts = line.Split(':', 3);
            if (parts.Length != 3)
            {
                continue;
            }

            var isUnified = parts[0] == "0" && parts[1].Length == 0;
            var controllers = isUnified ? [] : parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            var mount = mounts.FirstOrDefault(m => m.IsUnified == isUnified && (isUnified || controllers.IsSubsetOf(m.Options)));
            if (mount is null)
            {
                continue;
            }

            hierarchies.Add(new CgroupHierarchy(
                mount.MountPoint,
                isUnified,
                isUnified ? controllers : controllers.Where(c => !c.Contains('=', StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal),
                RelativeTo(mount.Root, parts[2])));
        }

        return hierarchies;
    }

    private sealed record CgroupMount(string Root, string MountPoint, bool IsUnified, HashSet<string> Options);

    private static List<CgroupMount> ParseMounts(string mountInfo)
    {
        var mounts = new List<CgroupMount>();
        foreach (var line in mountInfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // id parent major:minor root mount-point options [optional...] - fstype source super-options
            var separator = line.IndexOf(" - ", StringComparison.Ordinal);
            if (separator < 0)
            {
                continue;
            }

            var left = line[..separator].Split(' ');
            var right = line[(separator + 3)..].Split(' ');
            if (left.Length < 5 || right.Length < 3 || (right[0] != "cgroup" && right[0] != "cgroup2"))
            {
                continue;
            }

            mounts.Add(new CgroupMount(
                Unescape(left[3]),
                Unescape(left[4]),
                right[0] == "cgroup2",
                right[2].Split(',').ToHashSet(StringComparer.Ordinal)));
        }

        return mounts;
    }

    // A container may mount a sub-tree of the hierarchy; /proc/self/cgroup shows the full path.
    private static string RelativeTo(string mountRoot, string path)
    {
        if (mountRoot == "/" || !path.StartsWith(mountRoot, StringComparison.Ordinal))
        {
            return path.TrimStart('/');
        }

        return path[mountRoot.Length..].TrimStart('/');
    }

    // mountinfo escapes space, tab, newline and backslash as \ooo.
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var builder = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length
                && int.TryParse(field.AsSpan(i + 1, 3), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                builder.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                builder.Append(field[i]);
            }
        }

        return builder.ToString();
    }
}
