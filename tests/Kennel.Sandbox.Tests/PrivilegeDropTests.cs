namespace Kennel.Sandbox.Tests;

/// <summary>How a root worker drops to the sandbox's host uid, and the cgroups the child joins before bwrap runs.</summary>
public sealed class PrivilegeDropTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>
{
    private readonly SandboxHost _host = sandbox.Host;

    [Fact]
    public async Task The_whole_tree_runs_as_one_host_uid_of_the_range_with_the_same_gid_and_no_other_groups()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            await AssertTreeRunsAsAsync(_host, Own("Uid:"), Own("Gid:"));
            return;
        }

        var uid = await AssertTreeRunsAsAsync(_host, null, null);
        uid.ShouldBeInRange(_host.Options.FirstHostUid, _host.Options.FirstHostUid + _host.Options.HostUidCount - 1);
    }

    [Fact]
    public async Task With_setpriv_instead_of_the_in_child_switch_the_tree_runs_as_a_host_uid_of_the_range_just_the_same()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return; // setpriv is only used from root
        }

        // What a worker falls back to on a .NET runtime without the members the in-child switch uses.
        using var host = new SandboxHost(options => options with { SwitchUidWithSetpriv = true });
        var uid = await AssertTreeRunsAsAsync(host, null, null);
        uid.ShouldBeInRange(host.Options.FirstHostUid, host.Options.FirstHostUid + host.Options.HostUidCount - 1);
        (await host.RunAsync("echo via setpriv")).Stdout.ShouldBe("via setpriv\n");
    }

    [Fact]
    public async Task Concurrent_sandboxes_run_as_different_host_uids()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return; // a non-root worker has only its own uid to give
        }

        var markers = Enumerable.Range(0, 3).Select(_ => $"{Random.Shared.Next(100, 999)}.{Random.Shared.Next(100_000, 999_999)}").ToList();
        var processes = new List<ISandboxProcess>();
        try
        {
            foreach (var marker in markers)
            {
                processes.Add(await _host.Runtime.StartAsync(SandboxHost.Spec("unused") with { Argv = ["sleep", marker] }, CancellationToken.None));
            }

            var uids = new List<int>();
            foreach (var marker in markers)
            {
                var workload = await HostProcesses.WaitForAsync(() => HostProcesses.WithArgv("sleep", marker), p => p.Count > 0);
                uids.Add(HostProcesses.Uids(workload.Single())[0]);
            }

            uids.Distinct().Count().ShouldBe(3, string.Join(", ", uids));
        }
        finally
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task When_every_host_uid_is_held_a_start_fails_clearly_and_a_uid_comes_back_once_its_sandbox_is_gone()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return;
        }

        // Three uids and no standbys: three sessions hold them all.
        using var host = new SandboxHost(options => options with { FirstHostUid = 1_990_000_000 + Random.Shared.Next(0, 1_000_000), HostUidCount = 3, StandbySandboxes = 0 });
        var held = new List<ISandboxProcess>();
        for (var i = 0; i < 3; i++)
        {
            held.Add(await host.Runtime.StartAsync(SandboxHost.Spec("sleep 60"), CancellationToken.None));
        }

        var refused = await Should.ThrowAsync<SandboxException>(() => host.RunAsync("echo too many"));
        refused.Code.ShouldBe("sandbox_start_failed");
        refused.Message.ShouldContain($"All 3 sandbox host uids ({host.Options.FirstHostUid}-{host.Options.FirstHostUid + 2}) are in use");

        await held[0].DisposeAsync();
        var after = await host.RunAsync("echo after");
        after.Stdout.ShouldBe("after\n", after.Stderr);

        foreach (var process in held.Skip(1))
        {
            await process.DisposeAsync();
        }
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
    // A null uid is whatever the first process runs as, so long as the whole tree agrees; the gid is then the same number.
    private static async Task<int> AssertTreeRunsAsAsync(SandboxHost host, int? expectedUid, int? expectedGid)
    {
        var marker = $"{Random.Shared.Next(100, 999)}.{Random.Shared.Next(100_000, 999_999)}";
        var spec = SandboxHost.Spec("unused") with { Argv = ["sleep", marker] };
        await using var process = await host.Runtime.StartAsync(spec, CancellationToken.None);

        var workload = await HostProcesses.WaitForAsync(() => HostProcesses.WithArgv("sleep", marker), p => p.Count > 0);
        var wholeTree = HostProcesses.ChainFromHere(workload.Single());

        wholeTree.Count.ShouldBeGreaterThanOrEqualTo(3);
        var uid = expectedUid ?? Ids(File.ReadAllLines($"/proc/{wholeTree[0]}/status"), "Uid:")[0];
        var gid = expectedGid ?? uid;
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

        if (Environment.IsPrivilegedProcess)
        {
            // bwrap, in the host's user namespace, kept none of root's capabilities (those of the rest are
            // within the sandbox's own user namespace).
            var first = File.ReadAllLines($"/proc/{wholeTree[^1]}/status");
            Capabilities(first, "CapPrm:").ShouldBe(0UL);
            Capabilities(first, "CapEff:").ShouldBe(0UL);
            Capabilities(first, "CapAmb:").ShouldBe(0UL);
        }

        await process.KillAsync();
        return uid;
    }

    private static ulong Capabilities(string[] status, string field) =>
        ulong.Parse(status.First(l => l.StartsWith(field, StringComparison.Ordinal))[field.Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

    private static int[] Ids(string[] status, string field) =>
        [.. status.First(l => l.StartsWith(field, StringComparison.Ordinal))[field.Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)];
}
