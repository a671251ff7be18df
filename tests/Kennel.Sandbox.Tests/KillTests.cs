using System.Diagnostics;

namespace Kennel.Sandbox.Tests;

public sealed class KillTests(SmallLimitsSandbox sandbox) : IClassFixture<SmallLimitsSandbox>
{
    private readonly SandboxHost _host = sandbox.Host;

    private static string NewMarker() => $"{Random.Shared.Next(100, 999)}.{Random.Shared.Next(100_000, 999_999)}";

    [Fact]
    public async Task Kill_ends_the_whole_tree_within_a_second()
    {
        var marker = NewMarker();
        await using var process = await _host.Runtime.StartAsync(SandboxHost.Spec($"sleep {marker} & sleep {marker} & echo ready; wait"), CancellationToken.None);
        using var stdout = new StreamReader(process.StandardOutput);
        (await stdout.ReadLineAsync()).ShouldBe("ready");
        (await HostProcesses.WaitForAsync(() => HostProcesses.WithArgv("sleep", marker), p => p.Count == 2)).Count.ShouldBe(2);

        var stopwatch = Stopwatch.StartNew();
        await process.KillAsync();
        var exit = await process.WaitForExitAsync(CancellationToken.None);
        stopwatch.Stop();

        stopwatch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1));
        exit.ExitCode.ShouldBe(128 + 9);
        HostProcesses.WithMarker(marker).ShouldBeEmpty();
    }

    [Fact]
    public async Task Kill_is_idempotent_and_safe_after_exit()
    {
        await using var process = await _host.Runtime.StartAsync(SandboxHost.Spec("exit 4"), CancellationToken.None);
        (await process.WaitForExitAsync(CancellationToken.None)).ExitCode.ShouldBe(4);

        await process.KillAsync();
        await process.KillAsync();

        (await process.WaitForExitAsync(CancellationToken.None)).ExitCode.ShouldBe(4);
    }

    [Fact]
    public async Task Dispose_kills_a_running_workload()
    {
        var marker = NewMarker();
        var process = await _host.Runtime.StartAsync(SandboxHost.Spec("unused") with { Argv = ["sleep", marker] }, CancellationToken.None);
        (await HostProcesses.WaitForAsync(() => HostProcesses.WithArgv("sleep", marker), p => p.Count == 1)).Count.ShouldBe(1);

        await process.DisposeAsync();

        HostProcesses.WithMarker(marker).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_fork_bomb_is_held_to_the_pids_limit_and_killed_completely()
    {
        var marker = NewMarker();
        var limit = _host.Options.PidsLimit;
        // bash, unlike dash, keeps retrying a refused fork, so the bomb presses on the limit instead of collapsing.
        var spec = SandboxHost.Spec("unused") with { Argv = ["bash", "-c", $": {marker}; bomb() {{ bomb & bomb & wait; }}; bomb"] };
        await using var process = await _host.Runtime.StartAsync(spec, CancellationToken.None);
        var run = SandboxHost.CollectAsync(process);

        // Every process of the bomb is a fork of the same shell, so each carries the marker in its argv.
        var bomb = await HostProcesses.WaitForAsync(() => HostProcesses.WithMarker(marker), p => p.Count >= limit / 2);
        bomb.Count.ShouldBeGreaterThanOrEqualTo(limit / 2, "the bomb should have grown to the limit");
        for (var sample = 0; sample < 5; sample++)
        {
            HostProcesses.WithMarker(marker).Count.ShouldBeLessThanOrEqualTo(limit);
            await Task.Delay(50);
        }

        await process.KillAsync();

        (await run).Stderr.ShouldContain("fork: retry: Resource temporarily unavailable");
        HostProcesses.WithMarker(marker).ShouldBeEmpty();
    }
}
