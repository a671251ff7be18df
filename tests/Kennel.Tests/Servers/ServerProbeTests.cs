using Kennel.Contracts.Servers;
using Kennel.ControlPlane.Servers;

namespace Kennel.Tests.Servers;

/// <summary>The probe's output as machines print it, and what each says about becoming a worker.</summary>
public sealed class ServerProbeTests
{
    private const string DebianV2 = """
        os=Linux
        arch=aarch64
        kernel=6.1.0-27-arm64
        distro=debian
        version=12
        uid=1000
        sudo=1
        systemd=1
        pm=apt-get
        bwrap=0
        cgroups=v2
        controllers=cpuset cpu io memory hugetlb pids rdma misc
        mem_total_kb=8126464
        mem_available_kb=7340032
        disk_free_kb=62914560
        cpus=4
        probe=done
        """;

    [Fact]
    public void A_sudo_user_on_cgroup_v2_arm64_can_become_a_worker()
    {
        var system = ServerProbe.Parse(DebianV2)!;

        system.ShouldBe(new ServerSystem
        {
            Os = "Linux",
            Distribution = "debian",
            Version = "12",
            Architecture = "aarch64",
            Kernel = "6.1.0-27-arm64",
            Root = false,
            PasswordlessSudo = true,
            Systemd = true,
            PackageManager = "apt-get",
            BubblewrapInstalled = false,
            BubblewrapUsable = false,
            Cgroups = "v2",
            CgroupsUsable = true,
            MemoryTotalMb = 7936,
            MemoryAvailableMb = 7168,
            DiskFreeMb = 61440,
            Cpus = 4,
        });
        ServerProbe.Problem(system).ShouldBeNull();
    }

    [Theory]
    [InlineData("os=FreeBSD\narch=amd64\nprobe=done", ConnectionErrors.UnsupportedOs)]
    [InlineData("os=Linux\narch=armv7l\nuid=0\nprobe=done", ConnectionErrors.UnsupportedOs)]
    [InlineData("os=Linux\narch=x86_64\nuid=1000\nsudo=0\nprobe=done", ConnectionErrors.InsufficientPrivileges)]
    public void Other_systems_and_users_say_why_not(string output, string code) =>
        ServerProbe.Problem(ServerProbe.Parse(output)!)!.Code.ShouldBe(code);

    [Theory]
    [InlineData("")]
    [InlineData("'uname' is not recognized as an internal or external command")]
    [InlineData("os=Linux\narch=x86_64")]
    public void Output_that_is_not_the_probe_s_is_no_system(string output) => ServerProbe.Parse(output).ShouldBeNull();

    [Fact]
    public void Cgroup_v1_without_pids_is_not_usable_and_bad_numbers_read_as_zero()
    {
        var system = ServerProbe.Parse("os=Linux\narch=x86_64\nuid=0\ncgroups=v1\ncontrollers=cpu memory\nmem_total_kb=-5\ncpus=lots\nprobe=done")!;

        system.CgroupsUsable.ShouldBeFalse();
        system.MemoryTotalMb.ShouldBe(0);
        system.Cpus.ShouldBe(0);
        system.Root.ShouldBeTrue();
    }
}
