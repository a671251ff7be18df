namespace Kennel.Sandbox.Tests;

/// <summary>How a root worker drops to the sandbox's host uid, and the cgroups the child joins before bwrap runs.</summary>
public sealed class PrivilegeDropTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>
{
    // Debian's nobody:nogroup, with no other groups.
    private const int Nobody = 65534;

    // No passwd entry on these machines.
    private const int Unnamed = 65533;

    private readonly SandboxHost _host = sandbox.Host;

    [Fact]
    public void A_uid_with_a_matching_passwd_entry_resolves_to_its_name()
    {
        HostUser.TryResolve(Nobody, Nobody, out var reason).ShouldBe("nobody", reason);
    }

    [Fact]
    public void A_gid_other_than_the_passwd_entry_does_not_resolve()
    {
        HostUser.TryResolve(Nobody, Unnamed, out var reason).ShouldBeNull();
        reason.ShouldContain($"not the configured host gid {Unnamed}");
    }

    [Fact]
    public void A_uid_without_a_passwd_entry_does_not_resolve()
    {
        HostUser.TryResolve(Unnamed, Unnamed, out var reason).ShouldBeNull();
        reason.ShouldBe($"host uid {Unnamed} has no passwd entry");
    }

    [Fact]
    public async Task The_whole_tree_runs_as_the_host_uid_and_gid()
    {
        var (uid, gid) = Environment.IsPrivilegedProcess ? (_host.Options.HostUid, _host.Options.HostGid) : (Own("Uid:"), Own("Gid:"));
        await AssertTreeRunsAsAsync(_host, uid, gid);
    }

    [Fact]
    public async Task A_host_uid_without_a_passwd_entry_still_drops_root_through_setpriv()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return;
        }

        using var host = new SandboxHost(options => options with { HostUid = Unnamed, HostGid = Unnamed });
        host.Runtime.Capabilities.Available.ShouldBeTrue(host.Runtime.Capabilities.Problem);

        await AssertTreeRunsAsAsync(host, Unnamed, Unnamed);
        (await host.RunAsync("echo ok")).Stdout.ShouldBe("ok\n");
    }

    [Fact]
    public async Task Every_process_of_the_workload_is_in_the_session_cgroups_as_the_host_sees_them()
    {
        var marker = $"{Random.Shared.Next(100, 999)}.{Random.Shared.Next(100_000, 999_999)}";
        var spec = SandboxHost.Spec("unused") with { Argv = ["sleep", marker] };
        await using var process = await _host.Runtime.StartAsync(spec, CancellationToken.None);

        var workload = await HostProcesses.WaitForAsync(() => HostProcesses.WithArgv("sleep", marker), p => p.Count > 0);
        var wholeTree = HostProcesses.ChainFromHere(workload.Single());

        // bwrap, its pid 1 and the workload: all of them in one cgroup of the runtime's group, in every hierarchy the
        // session uses, and none of them in this process's own.
        wholeTree.Count.ShouldBeGreaterThanOrEqualTo(3);
        string[] hierarchies = ["memory", "cpu", "pids", ""]; // "" is v2, which also counts cpu time here
        foreach (var hierarchy in hierarchies)
        {
            var paths = wholeTree.Select(pid => CgroupOf(pid, hierarchy)).Distinct().ToList();
            paths.Count.ShouldBe(1, $"hierarchy '{hierarchy}': {string.Join(" | ", paths)}");
            paths[0].ShouldContain($"/{_host.Options.CgroupGroup}/", Case.Sensitive, $"hierarchy '{hierarchy}'");
            paths[0].ShouldNotBe(CgroupOf(Environment.ProcessId, hierarchy));
        }

        await process.KillAsync();
    }

    private static string CgroupOf(int pid, string hierarchy) =>
        File.ReadAllLines($"/proc/{pid}/cgroup").Select(l => l.Split(':', 3)).Single(f => f[1].Split(',').Contains(hierarchy))[2];

    private static int Own(string field) =>
        int.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(field, StringComparison.Ordinal))[field.Length..].Split('\t', StringSplitOptions.RemoveEmptyEntries)[0]);

    // Real, effective, saved and filesystem ids of every process of the tree, as the host sees them, and no other groups.
    private static async Task AssertTreeRunsAsAsync(SandboxHost host, int uid, int gid)
    {
        var marker = $"{Random.Shared.Next(100, 999)}.{Random.Shared.Next(100_000, 999_999)}";
        var spec = SandboxHost.Spec("unused") with { Argv = ["sleep", marker] };
        await using var process = await host.Runtime.StartAsync(spec, CancellationToken.None);

        var workload = await HostProcesses.WaitForAsync(() => HostProcesses.WithArgv("sleep", marker), p => p.Count > 0);
        var wholeTree = HostProcesses.ChainFromHere(workload.Single());

        wholeTree.Count.ShouldBeGreaterThanOrEqualTo(3);
        foreach (var pid in wholeTree)
        {
            var status = File.ReadAllLines($"/proc/{pid}/status");
            Ids(status, "Uid:").ShouldAllBe(id => id == uid);
            Ids(status, "Gid:").ShouldAllBe(id => id == gid);
            if (Environment.IsPrivilegedProcess)
            {
                Ids(status, "Groups:").ShouldAllBe(id => id == gid);
            }
        }

        await process.KillAsync();
    }

    private static int[] Ids(string[] status, string field) =>
        [.. status.First(l => l.StartsWith(field, StringComparison.Ordinal))[field.Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)];
}
