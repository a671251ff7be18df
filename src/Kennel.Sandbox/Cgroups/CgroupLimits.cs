using System.Globalization;

namespace Kennel.Sandbox.Cgroups;

/// <summary>The limits one session's cgroups enforce, besides the pids limit that every sandbox shares.</summary>
internal sealed record CgroupLimits(long MemoryBytes, int Vcpus)
{
    // The kernel's default CFS period; the quota is a multiple of it.
    private const long CpuPeriodMicroseconds = 100_000;

    public void ApplyMemory(string directory, bool isUnified)
    {
        var bytes = MemoryBytes.ToString(CultureInfo.InvariantCulture);
        if (isUnified)
        {
            CgroupFile.Write(Path.Join(directory, "memory.max"), bytes);

            // Without this the workload would swap instead of meeting the OOM killer.
            var swap = Path.Join(directory, "memory.swap.max");
            if (File.Exists(swap))
            {
                CgroupFile.Write(swap, "0");
            }

            return;
        }

        CgroupFile.Write(Path.Join(directory, "memory.limit_in_bytes"), bytes);

        // v1's memory+swap limit must be at least the memory limit, so it is written second.
        var memsw = Path.Join(directory, "memory.memsw.limit_in_bytes");
        if (File.Exists(memsw))
        {
            CgroupFile.Write(memsw, bytes);
        }
    }

    public void ApplyCpu(string directory, bool isUnified)
    {
        var quota = Vcpus * CpuPeriodMicroseconds;
        if (isUnified)
        {
            CgroupFile.Write(Path.Join(directory, "cpu.max"), string.Create(CultureInfo.InvariantCulture, $"{quota} {CpuPeriodMicroseconds}"));
            return;
        }

        CgroupFile.Write(Path.Join(directory, "cpu.cfs_period_us"), CpuPeriodMicroseconds.ToString(CultureInfo.InvariantCulture));
        CgroupFile.Write(Path.Join(directory, "cpu.cfs_quota_us"), quota.ToString(CultureInfo.InvariantCulture));
    }

    public static void ApplyPids(string directory, int pids) =>
        CgroupFile.Write(Path.Join(directory, "pids.max"), pids.ToString(CultureInfo.InvariantCulture));
}
