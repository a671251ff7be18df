namespace Kennel.Sandbox.Snapshots;

/// <summary>
/// The root of a sandbox booted from a built snapshot: each top-level entry of its unpacked image bound read-only (a
/// link made as a link), so the host's own /usr is never seen. The directories the sandbox makes itself (/proc, /dev,
/// /tmp, /work, /run, /skills) are left out of the image's root: they stay bwrap's, and mount points can be made in them.
/// </summary>
internal static class RootfsMounts
{
    private static readonly HashSet<string> RuntimeOwned = new(StringComparer.Ordinal) { "proc", "dev", "sys", "tmp", "work", "run", "skills" };

    public static Snapshot Create(string name, string rootFilesystem)
    {
        if (!Path.IsPathFullyQualified(rootFilesystem) || !Directory.Exists(rootFilesystem))
        {
            throw new SandboxException("snapshot_unavailable", $"The unpacked image of snapshot '{name}' is missing on this worker.");
        }

        List<string> arguments = [];
        foreach (var entry in new DirectoryInfo(rootFilesystem).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            if (RuntimeOwned.Contains(entry.Name))
            {
                continue;
            }

            var inside = "/" + entry.Name;
            if (entry.LinkTarget is { } target)
            {
                arguments.AddRange(["--symlink", target, inside]);
            }
            else
            {
                arguments.AddRange(["--ro-bind", entry.FullName, inside]);
            }
        }

        return new Snapshot(name, arguments);
    }
}
