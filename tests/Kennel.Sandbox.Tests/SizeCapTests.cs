namespace Kennel.Sandbox.Tests;

public sealed class SizeCapTests(SmallLimitsSandbox sandbox) : IClassFixture<SmallLimitsSandbox>
{
    private readonly SandboxHost _host = sandbox.Host;

    [Theory]
    [InlineData("/tmp")]
    [InlineData("/work")]
    public async Task Writing_past_the_size_cap_fails(string directory)
    {
        // The cap is 8 MiB here.
        var run = await _host.RunAsync($"head -c 4M /dev/zero > {directory}/small && echo small-ok; head -c 16M /dev/zero > {directory}/big");

        run.Stdout.ShouldBe("small-ok\n");
        run.ExitCode.ShouldNotBe(0);
        run.Stderr.ShouldContain("No space left on device");
    }
}
