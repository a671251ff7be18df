namespace Kennel.Sandbox.Tests;

public sealed class LauncherTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>
{
    private readonly SandboxHost _host = sandbox.Host;

    [Fact]
    public async Task A_sandbox_outlives_the_thread_that_started_it()
    {
        // --die-with-parent's signal follows the thread that forked bwrap, so a retiring thread-pool thread would
        // kill the sandbox. The starting thread here exits once the workload runs, when bwrap has armed the signal.
        ISandboxProcess? process = null;
        StreamReader? stdout = null;
        var starter = new Thread(() =>
        {
            process = _host.Runtime.StartAsync(SandboxHost.Spec("echo started; sleep 0.3; echo alive"), CancellationToken.None).GetAwaiter().GetResult();
            stdout = new StreamReader(process.StandardOutput);
            stdout.ReadLine().ShouldBe("started");
        });
        starter.Start();
        starter.Join();

        await using var started = process.ShouldNotBeNull();
        var rest = await stdout.ShouldNotBeNull().ReadToEndAsync();
        var exit = await started.WaitForExitAsync(CancellationToken.None);

        exit.ExitCode.ShouldBe(0);
        rest.ShouldBe("alive\n");
    }
}
