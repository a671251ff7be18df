namespace Kennel.Sandbox.Cgroups;

/// <summary>Which cgroup roles this machine lets Kennel use.</summary>
internal sealed record CgroupSupport(bool MemoryLimit, bool CpuLimit, bool PidsLimit, bool CpuAccounting, bool KillTree);
