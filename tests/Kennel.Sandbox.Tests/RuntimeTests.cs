using Kennel.Sandbox.Cgroups;

namespace Kennel.Sandbox.Tests;

public sealed class RuntimeTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>
{
    private readonly SandboxHost _host = sandbox.Host;

    [Fact]
    public void Capabilities_report_every_limit_enforced_on_this_machine()
    {
        var capabilities = _host.Runtime.Capabilities;

        capabilities.Available.ShouldBeTrue(capabilities.Problem);
        capabilities.MemoryLimit.ShouldBeTrue();
        capabilities.CpuLimit.ShouldBeTrue();
        capabilities.PidsLimit.ShouldBeTrue();
        capabilities.CpuAccounting.ShouldBeTrue();
        capabilities.Describe().ShouldBe("bubblewrap: memory limit enforced, cpu limit enforced, pids limit enforced, cpu accounting enforced");
    }

    [Fact]
    public async Task An_unknown_snapshot_is_refused_with_snapshot_not_found()
    {
        var spec = SandboxHost.Spec("true") with { Snapshot = "no-such-snapshot" };

        var error = await Should.ThrowAsync<SandboxException>(() => _host.Runtime.StartAsync(spec, CancellationToken.None));

        error.Code.ShouldBe("snapshot_not_found");
        error.Message.ShouldContain("no-such-snapshot");
        error.Message.ShouldContain("test-minimal");
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData(".hidden")]
    [InlineData("")]
    public async Task A_session_id_that_is_not_a_plain_name_is_refused(string sessionId)
    {
        var spec = SandboxHost.Spec("true") with { SessionId = sessionId };

        var error = await Should.ThrowAsync<SandboxException>(() => _host.Runtime.StartAsync(spec, CancellationToken.None));

        error.Code.ShouldBe("invalid_spec");
    }

    [Fact]
    public async Task An_empty_argv_is_refused()
    {
        var spec = SandboxHost.Spec("true") with { Argv = [] };

        var error = await Should.ThrowAsync<SandboxException>(() => _host.Runtime.StartAsync(spec, CancellationToken.None));

        error.Code.ShouldBe("invalid_spec");
    }

    [Fact]
    public async Task The_session_cgroups_are_removed_after_exit()
    {
        var marker = $"{Random.Shared.Next(100, 999)}.{Random.Shared.Next(100_000, 999_999)}";
        var spec = SandboxHost.Spec("unused") with { Argv = ["sleep", marker] };
        var mountInfo = await File.ReadAllTextAsync("/proc/self/mountinfo");
        List<string> sessionDirectories;

        await using (var process = await _host.Runtime.StartAsync(spec, CancellationToken.None))
        {
            var workload = (await HostProcesses.WaitForAsync(() => HostProcesses.WithArgv("sleep", marker), p => p.Count > 0)).Single();
            sessionDirectories = [.. CgroupHierarchy.Parse(mountInfo, await File.ReadAllTextAsync($"/proc/{workload}/cgroup"))
                .Select(h => h.OwnDirectory)
                .Where(d => d.Contains($"/{_host.Options.CgroupGroup}/", StringComparison.Ordinal))
                .Distinct()];
            sessionDirectories.Count.ShouldBeGreaterThanOrEqualTo(4, "unified, memory, cpu and pids");
            sessionDirectories.ShouldAllBe(d => Directory.Exists(d));
            await process.KillAsync();
        }

        sessionDirectories.Where(Directory.Exists).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_runtime_that_is_unavailable_refuses_to_start_with_sandbox_unavailable()
    {
        // A directory under a regular file cannot be created, so the runtime cannot publish its snapshot's files.
        var file = Path.GetTempFileName();
        try
        {
            var options = new BubblewrapOptions { StateDirectory = Path.Join(file, "state"), SharedDirectory = Path.Join(file, "shared") };
            var runtime = new BubblewrapSandbox(options, Microsoft.Extensions.Logging.Abstractions.NullLogger<BubblewrapSandbox>.Instance);

            runtime.Capabilities.Available.ShouldBeFalse();
            runtime.Capabilities.Describe().ShouldStartWith("bubblewrap unavailable: cannot write the sandbox's files");
            var error = await Should.ThrowAsync<SandboxException>(() => runtime.StartAsync(SandboxHost.Spec("true"), CancellationToken.None));
            error.Code.ShouldBe("sandbox_unavailable");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
