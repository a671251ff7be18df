using System.Globalization;
using Kennel.Sandbox.Cgroups;

namespace Kennel.Sandbox.Tests;

/// <summary>
/// Sessions run in sandboxes started ahead of them, which get the session's arguments over a pipe and rebuild its argv
/// inside the sandbox. What a user sees must not change: the exact argv, the env, stdin at end-of-file.
/// </summary>
public sealed class StandbyTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>
{
    private readonly SandboxHost _host = sandbox.Host;

    [Fact]
    public async Task The_workload_gets_its_argv_byte_for_byte()
    {
        string[] arguments = ["a b", "", "quote\"s 'and' more", "$HOME", "back\\slash", "new\nline", "*", "-e", "tab\there", "ünï", "`id`", "$(id)"];
        var spec = SandboxHost.Spec("unused") with { Argv = ["printf", "[%s]", .. arguments] };

        await using var process = await _host.Runtime.StartAsync(spec, CancellationToken.None);
        var run = await SandboxHost.CollectAsync(process);

        run.ExitCode.ShouldBe(0, run.Stderr);
        run.Stdout.ShouldBe(string.Concat(arguments.Select(a => $"[{a}]")));
    }

    [Fact]
    public async Task The_workload_sees_its_env_and_none_of_the_variables_that_carried_its_argv()
    {
        var run = await _host.RunAsync(SandboxHost.Spec("echo \"$GREETING\"; env | grep -c '^_KENNEL' || true", env: new Dictionary<string, string> { ["GREETING"] = "hello there" }));

        run.ExitCode.ShouldBe(0, run.Stderr);
        run.Stdout.ShouldBe("hello there\n0\n");
    }

    [Fact]
    public async Task The_workload_reads_end_of_file_on_stdin()
    {
        var run = await _host.RunAsync("cat; echo \"cat exited $?\"; readlink /proc/self/fd/0");

        run.ExitCode.ShouldBe(0, run.Stderr);
        run.Stdout.ShouldBe("cat exited 0\n/dev/null\n");
    }

    [Fact]
    public async Task A_session_env_never_appears_on_a_host_command_line()
    {
        var secret = $"secret-{Guid.NewGuid():N}";
        var marker = $"{Random.Shared.Next(100, 999)}.{Random.Shared.Next(100_000, 999_999)}";
        var spec = SandboxHost.Spec("unused", env: new Dictionary<string, string> { ["API_TOKEN"] = secret }) with { Argv = ["sleep", marker] };

        await using var process = await _host.Runtime.StartAsync(spec, CancellationToken.None);
        (await HostProcesses.WaitForAsync(() => HostProcesses.WithArgv("sleep", marker), p => p.Count > 0)).ShouldNotBeEmpty();

        HostProcesses.WithMarker(secret).ShouldBeEmpty("no process's command line may carry a session's env");
        await process.KillAsync();
    }

    [Fact]
    public async Task An_env_name_that_would_clash_with_the_argv_variables_is_refused()
    {
        var spec = SandboxHost.Spec("true", env: new Dictionary<string, string> { ["_KENNEL_ARG0"] = "x" });

        var error = await Should.ThrowAsync<SandboxException>(() => _host.Runtime.StartAsync(spec, CancellationToken.None));

        error.Code.ShouldBe("invalid_spec");
        error.Message.ShouldContain("reserved");
    }

    [Fact]
    public async Task Standbys_killed_while_they_wait_are_replaced_and_disposal_leaves_none_behind()
    {
        // A group of its own, so this runtime's standbys are told apart from those of the other tests' runtimes.
        var group = $"kennel-standby-{Guid.NewGuid():N}"[..24];
        var pidsGroup = Path.Join(PidsHierarchy().OwnDirectory, group);
        var host = new SandboxHost(options => options with { CgroupGroup = group });
        try
        {
            var standbys = await WaitForStandbysAsync(pidsGroup, 2);
            standbys.Count.ShouldBe(2, "the pool fills to its default size of 2");
            foreach (var pid in standbys)
            {
                using var standby = System.Diagnostics.Process.GetProcessById(pid);
                standby.Kill();
            }

            // Dead and reaped, as a standby killed well before a session comes would be.
            (await HostProcesses.WaitForAsync(() => [.. standbys.Where(pid => Directory.Exists($"/proc/{pid}"))], alive => alive.Count == 0)).ShouldBeEmpty();

            var run = await host.RunAsync("echo still runs");

            run.ExitCode.ShouldBe(0, run.Stderr);
            run.Stdout.ShouldBe("still runs\n");
            (await WaitForStandbysAsync(pidsGroup, 2)).Count.ShouldBe(2, "the pool fills again");
        }
        finally
        {
            host.Dispose();
        }

        Directory.EnumerateDirectories(pidsGroup).ShouldBeEmpty("disposal removes every standby and its cgroups");
        foreach (var hierarchy in CgroupHierarchy.Parse(File.ReadAllText("/proc/self/mountinfo"), File.ReadAllText("/proc/self/cgroup")))
        {
            var directory = Path.Join(hierarchy.OwnDirectory, group);
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory);
            }
        }
    }

    private static CgroupHierarchy PidsHierarchy() =>
        CgroupHierarchy.Parse(File.ReadAllText("/proc/self/mountinfo"), File.ReadAllText("/proc/self/cgroup")).Single(h => h.Controllers.Contains("pids"));

    // Pids waiting in the group's cgroups, once there are as many as expected (or after 10 s).
    private static async Task<IReadOnlyList<int>> WaitForStandbysAsync(string pidsGroup, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var pids = Directory.EnumerateDirectories(pidsGroup)
                .SelectMany(d => File.ReadAllLines(Path.Join(d, "cgroup.procs")))
                .Select(l => int.Parse(l, CultureInfo.InvariantCulture))
                .ToList();
            if (pids.Count >= expected || DateTime.UtcNow > deadline)
            {
                return pids;
            }

            await Task.Delay(20);
        }
    }
}
