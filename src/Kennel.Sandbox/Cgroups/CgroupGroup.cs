namespace Kennel.Sandbox.Cgroups;

/// <summary>The directory, in one hierarchy, under which Kennel creates a cgroup per session.</summary>
/// <param name="Directory">e.g. <c>/sys/fs/cgroup/memory/&lt;own path&gt;/kennel</c>.</param>
/// <param name="IsUnified">Whether the hierarchy speaks cgroup v2's file names (<c>memory.max</c>) or v1's (<c>memory.limit_in_bytes</c>).</param>
internal sealed record CgroupGroup(string Directory, bool IsUnified)
{
    public string SessionDirectory(string sessionId) => Path.Join(Directory, sessionId);
}
