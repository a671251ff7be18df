namespace Kennel.Sandbox.Tests;

/// <summary>The session's cgroups: memory, CPU and process limits, and CPU accounting.</summary>
public sealed class LimitTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>
{
    private readonly SandboxHost _host = sandbox.Host;

    [Fact]
    public async Task Exceeding_the_memory_limit_is_reported_as_out_of_memory()
    {
        var run = await _host.RunAsync("dd if=/dev/zero bs=200M count=1 of=/dev/null", memoryMb: 64);

        run.ExitCode.ShouldNotBe(0);
        run.Exit.OutOfMemory.ShouldBeTrue();
    }

    [Fact]
    public async Task Staying_under_the_memory_limit_is_not_out_of_memory()
    {
        var run = await _host.RunAsync("dd if=/dev/zero bs=16M count=1 of=/dev/null 2>/dev/null", memoryMb: 64);

        run.ExitCode.ShouldBe(0, run.Stderr);
        run.Exit.OutOfMemory.ShouldBeFalse();
    }

    [Fact]
    public async Task Cpu_time_of_the_whole_tree_is_counted()
    {
        // The loop runs in a child of the shell, which bwrap's pid namespace hides from wait4's rusage. It stops
        // after one second of its own CPU time (utime + stime, in 1/100 s), however busy the machine is.
        var run = await _host.RunAsync("""
            sh -c 'while read -r stat < /proc/$$/stat; set -- $stat; [ $((${14} + ${15})) -lt 100 ]; do :; done'
            echo done
            """);

        run.Stdout.ShouldBe("done\n");
        run.Exit.CpuSeconds.ShouldBeGreaterThanOrEqualTo(0.5);
    }

    [Fact]
    public async Task The_cpu_quota_holds_two_busy_loops_to_one_cpu()
    {
        // Unthrottled, two loops on this machine's two cores would use about 2 CPU-seconds in one second.
        var run = await _host.RunAsync("timeout 1 sh -c 'while :; do :; done' & timeout 1 sh -c 'while :; do :; done'; wait", vcpus: 1);

        run.Exit.CpuSeconds.ShouldBeLessThan(1.5);
    }
}
