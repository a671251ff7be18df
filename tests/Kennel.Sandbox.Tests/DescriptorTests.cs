using System.Runtime.InteropServices;

namespace Kennel.Sandbox.Tests;

public sealed partial class DescriptorTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>
{
    private readonly SandboxHost _host = sandbox.Host;

    [Fact]
    public async Task A_descriptor_the_worker_holds_without_close_on_exec_does_not_reach_the_workload()
    {
        // dup(2) makes a descriptor without close-on-exec, like one a worker inherits from a shell or supervisor.
        var inherited = Dup(2);
        inherited.ShouldBeGreaterThan(2);
        try
        {
            var run = await _host.RunAsync("ls /proc/self/fd");

            run.ExitCode.ShouldBe(0, run.Stderr);
            // 0-2 are the workload's stdio; 3 is the directory ls itself is reading.
            run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["0", "1", "2", "3"]);
        }
        finally
        {
            Close(inherited).ShouldBe(0);
        }
    }

    [LibraryImport("libc", EntryPoint = "dup")]
    private static partial int Dup(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
