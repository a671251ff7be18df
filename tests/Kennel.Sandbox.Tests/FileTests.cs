namespace Kennel.Sandbox.Tests;

/// <summary>A session's files (a daemon's trigger payload) appear read-only inside the sandbox, and nowhere else.</summary>
public sealed class FileTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>
{
    private SandboxHost Host => sandbox.Host;

    [Fact]
    public async Task A_file_appears_at_its_path_with_its_exact_bytes()
    {
        byte[] payload = [.. "{\"action\":\"opened\"}\n"u8, 0, 0xff, 0x01];
        var spec = SandboxHost.Spec("od -An -tx1 /run/kennel/trigger/payload | tr -d ' \\n'") with
        {
            Files = [new SandboxFile("/run/kennel/trigger/payload", payload)],
        };

        var run = await Host.RunAsync(spec);

        run.ExitCode.ShouldBe(0, run.Stderr);
        run.Stdout.ShouldBe(Convert.ToHexStringLower(payload));
    }

    [Fact]
    public async Task The_workload_cannot_change_or_remove_the_file()
    {
        var spec = SandboxHost.Spec(
            "echo x > /run/kennel/trigger/payload 2>/dev/null && echo wrote; rm -f /run/kennel/trigger/payload 2>/dev/null && echo removed; cat /run/kennel/trigger/payload") with
        {
            Files = [new SandboxFile("/run/kennel/trigger/payload", "original"u8.ToArray())],
        };

        var run = await Host.RunAsync(spec);

        run.Stdout.ShouldBe("original");
    }

    [Fact]
    public async Task The_host_copy_is_private_to_the_sandbox_uid_and_removed_when_the_session_ends()
    {
        var spec = SandboxHost.Spec("cat /run/kennel/a/b.json") with { Files = [new SandboxFile("/run/kennel/a/b.json", "{}"u8.ToArray())] };
        var hostDirectory = Path.Join(Host.SharedDirectory, "files", spec.SessionId);

        await using (var process = await Host.Runtime.StartAsync(spec, CancellationToken.None))
        {
            Directory.Exists(hostDirectory).ShouldBeTrue();
            (File.GetUnixFileMode(hostDirectory) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.OtherExecute)).ShouldBe((UnixFileMode)0);
            (await SandboxHost.CollectAsync(process)).Stdout.ShouldBe("{}");
        }

        Directory.Exists(hostDirectory).ShouldBeFalse();
    }

    [Theory]
    [InlineData("/tmp/payload")]
    [InlineData("/run/kennel/../../etc/passwd")]
    [InlineData("run/kennel/x")]
    [InlineData("/run/kennel/")]
    public async Task A_path_outside_run_kennel_is_refused(string path)
    {
        var spec = SandboxHost.Spec("true") with { Files = [new SandboxFile(path, "x"u8.ToArray())] };

        var refused = await Should.ThrowAsync<SandboxException>(() => Host.Runtime.StartAsync(spec, CancellationToken.None));

        refused.Code.ShouldBe("invalid_spec");
    }
}
