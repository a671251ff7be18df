namespace Kennel.Sandbox.Tests;

/// <summary>/dev/shm: a private, writable tmpfs of half the session's memory, whose pages count against that memory.</summary>
public sealed class SharedMemoryTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>
{
    private readonly SandboxHost _host = sandbox.Host;

    [Fact]
    public async Task Dev_shm_is_a_writable_tmpfs_of_half_the_sessions_memory()
    {
        var run = await _host.RunAsync("echo x > /dev/shm/a && cat /dev/shm/a && stat -f -c '%T %b %S' /dev/shm", memoryMb: 256);

        run.ExitCode.ShouldBe(0, run.Stderr);
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldBe("x");
        var fields = lines[1].Split(' ');
        fields[0].ShouldBe("tmpfs");
        (long.Parse(fields[1]) * long.Parse(fields[2])).ShouldBe(128L << 20);
    }

    [Fact]
    public async Task Writing_past_the_cap_fails_with_no_space_and_the_next_session_starts_empty()
    {
        var full = await _host.RunAsync("dd if=/dev/zero of=/dev/shm/fill bs=1M count=40 2>&1; echo \"dd $?\"", memoryMb: 64);
        var next = await _host.RunAsync("ls -A /dev/shm | wc -l");

        full.Stdout.ShouldContain("No space left on device");
        full.Stdout.ShouldContain("dd 1");
        full.Exit.OutOfMemory.ShouldBeFalse();
        next.Stdout.ShouldBe("0\n");
    }

    [Fact]
    public async Task Its_pages_count_against_the_sessions_memory()
    {
        // 60 MiB in /dev/shm plus 80 MiB of the process's own is more than the 128 MiB the session has, though each
        // alone fits: the kill proves the files were charged to the session.
        var run = await _host.RunAsync("""
            dd if=/dev/zero of=/dev/shm/fill bs=1M count=60 2>/dev/null && echo filled
            python3 -c 'b = b"\x01" * (80 << 20); print("allocated")'
            """, memoryMb: 128);

        run.Stdout.ShouldStartWith("filled\n");
        run.Stdout.ShouldNotContain("allocated");
        run.Exit.OutOfMemory.ShouldBeTrue();
    }
}
