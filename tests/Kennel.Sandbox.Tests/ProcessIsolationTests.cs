using System.Diagnostics;

namespace Kennel.Sandbox.Tests;

public sealed class ProcessIsolationTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>
{
    private readonly SandboxHost _host = sandbox.Host;

    [Fact]
    public async Task Host_processes_are_invisible()
    {
        var marker = $"{Random.Shared.Next(100, 999)}.{Random.Shared.Next(100_000, 999_999)}";
        using var hostSleep = Process.Start("sleep", marker);
        try
        {
            var run = await _host.RunAsync("for p in /proc/[0-9]*; do echo \"${p#/proc/} $(tr '\\0' ' ' < $p/cmdline)\"; done");

            run.ExitCode.ShouldBe(0, run.Stderr);
            run.Stdout.ShouldNotContain(marker);
            run.Stdout.ShouldNotContain("testhost");
            var pids = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => int.Parse(l.Split(' ')[0])).ToList();
            pids.Count.ShouldBeLessThan(10, run.Stdout);
            if (Environment.ProcessId > 10)
            {
                pids.ShouldNotContain(Environment.ProcessId);
                pids.ShouldNotContain(hostSleep.Id);
            }
        }
        finally
        {
            hostSleep.Kill();
        }
    }

    [Fact]
    public async Task The_workload_is_never_host_root()
    {
        var marker = $"{Random.Shared.Next(100, 999)}.{Random.Shared.Next(100_000, 999_999)}";
        var spec = SandboxHost.Spec("unused") with { Argv = ["sleep", marker] };
        await using var process = await _host.Runtime.StartAsync(spec, CancellationToken.None);

        var workload = await HostProcesses.WaitForAsync(() => HostProcesses.WithArgv("sleep", marker), p => p.Count > 0);
        var wholeTree = HostProcesses.ChainFromHere(workload.Single());

        wholeTree.Count.ShouldBeGreaterThanOrEqualTo(3, "bwrap, its pid 1 and the workload");
        foreach (var pid in wholeTree)
        {
            var uids = HostProcesses.Uids(pid);
            uids.ShouldNotContain(0);
            if (Environment.IsPrivilegedProcess)
            {
                uids.ShouldAllBe(uid => uid >= _host.Options.FirstHostUid && uid < _host.Options.FirstHostUid + _host.Options.HostUidCount);
            }
        }

        await process.KillAsync();
    }
}
