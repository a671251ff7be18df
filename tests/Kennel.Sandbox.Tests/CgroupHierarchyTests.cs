using Kennel.Sandbox.Cgroups;

namespace Kennel.Sandbox.Tests;

/// <summary>Finding this process's cgroups from /proc, for both layouts a worker may meet.</summary>
public sealed class CgroupHierarchyTests
{
    [Fact]
    public void Hybrid_layout_pairs_each_v1_controller_and_the_unified_core_with_their_paths()
    {
        const string mountInfo = """
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
            35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
            40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
            """;
        const string selfCgroup = """
            9:name=systemd:/
            8:pids:/
            4:memory:/process_api/abc
            2:cpu,cpuacct:/
            0::/
            """;

        var hierarchies = CgroupHierarchy.Parse(mountInfo, selfCgroup);

        hierarchies.Single(h => h.Controllers.Contains("memory")).OwnDirectory.ShouldBe("/sys/fs/cgroup/memory/process_api/abc");
        hierarchies.Single(h => h.Controllers.Contains("cpuacct")).OwnDirectory.ShouldBe("/sys/fs/cgroup/cpu,cpuacct");
        hierarchies.Single(h => h.Controllers.Contains("cpu")).Controllers.ShouldBe(["cpu", "cpuacct"], ignoreOrder: true);
        hierarchies.Single(h => h.Controllers.Contains("pids")).MountPoint.ShouldBe("/sys/fs/cgroup/pids");
        hierarchies.Single(h => h.IsUnified).MountPoint.ShouldBe("/sys/fs/cgroup/unified");
    }

    [Fact]
    public void Pure_v2_has_one_unified_hierarchy()
    {
        const string mountInfo = "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";
        const string selfCgroup = "0::/system.slice/kennel-worker.service\n";

        var hierarchy = CgroupHierarchy.Parse(mountInfo, selfCgroup).ShouldHaveSingleItem();

        hierarchy.IsUnified.ShouldBeTrue();
        hierarchy.OwnDirectory.ShouldBe("/sys/fs/cgroup/system.slice/kennel-worker.service");
    }

    [Fact]
    public void A_container_mount_of_a_subtree_is_resolved_relative_to_its_root()
    {
        const string mountInfo = "50 40 0:30 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n";
        const string selfCgroup = "4:memory:/docker/abc/worker\n";

        var hierarchy = CgroupHierarchy.Parse(mountInfo, selfCgroup).ShouldHaveSingleItem();

        hierarchy.OwnDirectory.ShouldBe("/sys/fs/cgroup/memory/worker");
    }
}
