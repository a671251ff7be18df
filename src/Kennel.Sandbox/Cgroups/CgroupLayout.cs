using Microsoft.Extensions.Logging;

namespace Kennel.Sandbox.Cgroups;

/// <summary>
/// Where each cgroup role lives on this machine, found once at start. It covers both the hybrid layout
/// (v1 controller hierarchies beside a controller-less v2 core) and pure cgroup v2: each role goes to v2
/// when v2 has its controller, else to the v1 hierarchy that has it, else it is not enforced.
/// </summary>
internal sealed partial class CgroupLayout
{
    private static readonly string[] LimitControllers = ["memory", "cpu", "pids"];

    // Far longer than any start takes between creating a session's cgroups and joining them.
    private static readonly TimeSpan LeftoverAge = TimeSpan.FromMinutes(1);

    internal CgroupLayout(CgroupGroup? memory, CgroupGroup? cpu, CgroupGroup? pids, CgroupGroup? accounting, CgroupGroup? unified, bool canKillTree)
    {
        Memory = memory;
        Cpu = cpu;
        Pids = pids;
        Accounting = accounting;
        Unified = unified;
        CanKillTree = canKillTree;
    }

    public static CgroupLayout None { get; } = new(null, null, null, null, null, canKillTree: false);

    public CgroupGroup? Memory { get; }
    public CgroupGroup? Cpu { get; }
    public CgroupGroup? Pids { get; }
    public CgroupGroup? Accounting { get; }

    /// <summary>The v2 group, which knows when a tree is empty (<c>cgroup.events</c>) even with no controllers.</summary>
    public CgroupGroup? Unified { get; }

    /// <summary>Whether <c>cgroup.kill</c> exists (Linux 5.14+), which kills a whole tree in one write.</summary>
    public bool CanKillTree { get; }

    public bool IsEmpty => Memory is null && Cpu is null && Pids is null && Accounting is null && Unified is null;

    public CgroupSupport Support => new(Memory is not null, Cpu is not null, Pids is not null, Accounting is not null, CanKillTree);

    /// <summary>
    /// Removes session cgroups that a worker killed before it could clean up left behind. Only empty ones go:
    /// the kernel refuses to remove a cgroup with processes, so a live sandbox, even another worker's, is safe.
    /// </summary>
    /// <returns>How many cgroup directories were removed.</returns>
    public int RemoveLeftovers(TimeProvider timeProvider, ILogger logger)
    {
        var cutoff = (timeProvider.GetUtcNow() - LeftoverAge).UtcDateTime;
        var removed = 0;
        CgroupGroup?[] roles = [Unified, Memory, Cpu, Pids, Accounting];
        foreach (var group in roles.OfType<CgroupGroup>().DistinctBy(g => g.Directory))
        {
            try
            {
                foreach (var directory in Directory.EnumerateDirectories(group.Directory))
                {
                    if (Directory.GetLastWriteTimeUtc(directory) < cutoff && TryRemoveEmpty(directory))
                    {
                        removed++;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogGroupUnusable(logger, group.Directory, e.Message);
            }
        }

        return removed;
    }

    private static bool TryRemoveEmpty(string directory)
    {
        try
        {
            Directory.Delete(directory);
            return true;
        }
        catch (IOException)
        {
            // EBUSY: processes still run in it.
            return false;
        }
    }

    public static CgroupLayout Detect(string groupName, ILogger logger)
    {
        IReadOnlyList<CgroupHierarchy> hierarchies;
        try
        {
            hierarchies = CgroupHierarchy.Parse(File.ReadAllText("/proc/self/mountinfo"), File.ReadAllText("/proc/self/cgroup"));
        }
        catch (IOException e)
        {
            LogNoCgroups(logger, e.Message);
            return None;
        }

        var unifiedHierarchy = hierarchies.FirstOrDefault(h => h.IsUnified);
        var unified = unifiedHierarchy is null ? null : CreateGroup(unifiedHierarchy, groupName, logger);
        var unifiedControllers = unified is null ? [] : EnableControllers(unifiedHierarchy!.OwnDirectory, unified.Directory, logger);

        CgroupGroup? For(string controller)
        {
            if (unifiedControllers.Contains(controller))
            {
                return unified;
            }

            var hierarchy = hierarchies.FirstOrDefault(h => !h.IsUnified && h.Controllers.Contains(controller));
            return hierarchy is null ? null : CreateGroup(hierarchy, groupName, logger);
        }

        // Enforceable means a fresh child cgroup accepts the limit, not merely that the file exists.
        var probe = new CgroupLimits(MemoryBytes: 64L << 20, Vcpus: 1);
        var memory = Verify(For("memory"), "memory", g => probe.ApplyMemory(g.Directory, g.IsUnified), logger);
        var cpu = Verify(For("cpu"), "cpu", g => probe.ApplyCpu(g.Directory, g.IsUnified), logger);
        var pids = Verify(For("pids"), "pids", g => CgroupLimits.ApplyPids(g.Directory, 64), logger);

        // v2 counts CPU time in every cgroup, controller or not; v1 needs cpuacct.
        var accounting = unified is not null && File.Exists(Path.Join(unified.Directory, "cpu.stat"))
            ? unified
            : Verify(For("cpuacct"), "cpuacct", g => CgroupFile.ReadNumber(Path.Join(g.Directory, "cpuacct.usage")), logger);

        var canKillTree = unified is not null && File.Exists(Path.Join(unified.Directory, "cgroup.kill"));
        return new CgroupLayout(memory, cpu, pids, accounting, unified, canKillTree);
    }

    private static CgroupGroup? CreateGroup(CgroupHierarchy hierarchy, string groupName, ILogger logger)
    {
        var directory = Path.Join(hierarchy.OwnDirectory, groupName);
        try
        {
            Directory.CreateDirectory(directory);
            return new CgroupGroup(directory, hierarchy.IsUnified);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogGroupUnusable(logger, directory, e.Message);
            return null;
        }
    }

    // In v2 a controller reaches the session cgroups only when every ancestor enables it for its children.
    private static HashSet<string> EnableControllers(string ownDirectory, string groupDirectory, ILogger logger)
    {
        try
        {
            var available = ReadWords(Path.Join(ownDirectory, "cgroup.controllers"));
            foreach (var controller in LimitControllers.Where(available.Contains))
            {
                TryEnable(ownDirectory, controller, logger);
                TryEnable(groupDirectory, controller, logger);
            }

            return ReadWords(Path.Join(groupDirectory, "cgroup.subtree_control"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogGroupUnusable(logger, groupDirectory, e.Message);
            return [];
        }
    }

    private static void TryEnable(string directory, string controller, ILogger logger)
    {
        var subtreeControl = Path.Join(directory, "cgroup.subtree_control");
        if (ReadWords(subtreeControl).Contains(controller))
        {
            return;
        }

        try
        {
            CgroupFile.Write(subtreeControl, "+" + controller);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Typically EBUSY: v2 forbids enabling controllers for children of a cgroup that holds processes.
            LogControllerNotEnabled(logger, controller, directory, e.Message);
        }
    }

    private static HashSet<string> ReadWords(string path) =>
        File.ReadAllText(path).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);

    private static CgroupGroup? Verify(CgroupGroup? group, string controller, Action<CgroupGroup> apply, ILogger logger)
    {
        if (group is null)
        {
            LogNotEnforced(logger, controller, "no hierarchy has this controller");
            return null;
        }

        // A leading dot cannot clash with a session id, which must start with a letter or digit.
        var probe = new CgroupGroup(Path.Join(group.Directory, $".probe-{Guid.NewGuid():N}"), group.IsUnified);
        try
        {
            Directory.CreateDirectory(probe.Directory);
            try
            {
                apply(probe);
            }
            finally
            {
                Directory.Delete(probe.Directory);
            }

            return group;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            LogNotEnforced(logger, controller, e.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox cgroups unavailable, so no limits are enforced: {Reason}")]
    private static partial void LogNoCgroups(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot use cgroup directory {Directory}: {Reason}")]
    private static partial void LogGroupUnusable(ILogger logger, string directory, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "cgroup v2 controller {Controller} not enabled under {Directory}: {Reason}")]
    private static partial void LogControllerNotEnabled(ILogger logger, string controller, string directory, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox cgroup controller {Controller} is not enforced: {Reason}")]
    private static partial void LogNotEnforced(ILogger logger, string controller, string reason);
}
