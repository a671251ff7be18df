namespace Kennel.Sandbox.Tests;

/// <summary>A sandbox bwrap could not build is told apart from a workload that failed.</summary>
public sealed class StartFailureTests
{
    [Fact]
    public async Task A_sandbox_that_could_not_be_built_is_reported_as_not_started_with_bwraps_reason()
    {
        // The runtime publishes the snapshot's /etc here; take it away after the probe, as a clean-up of /run would.
        var shared = Directory.CreateDirectory(Path.Join("/var/tmp", $"kennel-shared-{Guid.NewGuid():N}"),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherExecute).FullName;
        try
        {
            using var host = new SandboxHost(options => options with { SharedDirectory = shared });
            host.Runtime.Capabilities.Available.ShouldBeTrue(host.Runtime.Capabilities.Problem);
            foreach (var etc in Directory.GetDirectories(shared, "etc-*"))
            {
                Directory.Delete(etc, recursive: true);
            }

            var run = await host.RunAsync("echo never");

            run.Exit.Started.ShouldBeFalse();
            run.ExitCode.ShouldNotBe(0);
            run.Stdout.ShouldBeEmpty();
            run.Stderr.ShouldStartWith("bwrap: ");
            run.Stderr.ShouldContain("etc-");
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    [Fact]
    public async Task A_workload_that_fails_at_once_is_reported_as_started()
    {
        using var host = new SandboxHost(options => options);

        var run = await host.RunAsync("echo 'bwrap: not really' >&2; exit 1");

        run.Exit.Started.ShouldBeTrue();
        run.ExitCode.ShouldBe(1);
    }
}
