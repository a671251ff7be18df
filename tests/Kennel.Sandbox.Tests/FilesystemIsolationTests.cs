namespace Kennel.Sandbox.Tests;

/// <summary>What a workload cannot see or change of the host's files.</summary>
public sealed class FilesystemIsolationTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>
{
    private readonly SandboxHost _host = sandbox.Host;

    [Fact]
    public async Task A_host_file_outside_the_snapshot_is_invisible()
    {
        // World-readable on the host, so only the sandbox's mount namespace stands between the workload and it.
        var secret = $"secret-{Guid.NewGuid():N}";
        var path = Path.Join("/var/tmp", $"kennel-test-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(path, secret);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        try
        {
            var run = await _host.RunAsync($"cat {path}; ls /var /root /home");

            run.ExitCode.ShouldNotBe(0);
            run.Stdout.ShouldNotContain(secret);
            run.Stderr.ShouldNotContain(secret);
            run.Stderr.ShouldContain("No such file or directory");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Host_etc_is_replaced_by_a_synthetic_one()
    {
        var hostHostname = (await File.ReadAllTextAsync("/etc/hostname")).Trim();

        var run = await _host.RunAsync("ls /etc; cat /etc/shadow /etc/hostname; cat /etc/passwd");

        run.Stdout.ShouldBe("""
            group
            hosts
            nsswitch.conf
            passwd
            resolv.conf
            root:x:0:0:root:/root:/usr/sbin/nologin
            sandbox:x:1000:1000:sandbox:/work:/bin/sh
            nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin

            """);
        run.Stderr.ShouldContain("/etc/shadow: No such file or directory");
        run.Stderr.ShouldContain("/etc/hostname: No such file or directory");
        if (hostHostname.Length > 0 && hostHostname != "sandbox")
        {
            run.Stdout.ShouldNotContain(hostHostname);
        }
    }

    [Fact]
    public async Task Kennel_data_directory_is_invisible()
    {
        var run = await _host.RunAsync($"cat {_host.StateDirectory}/sessions.db; ls {_host.StateDirectory}");

        run.ExitCode.ShouldNotBe(0);
        run.Stdout.ShouldNotContain(_host.DataMarker);
        run.Stderr.ShouldContain("No such file or directory");
    }

    [Fact]
    public async Task Root_shows_only_the_snapshot()
    {
        var run = await _host.RunAsync("ls /");

        run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .ShouldBe(["bin", "dev", "etc", "lib", "lib64", "proc", "sbin", "tmp", "usr", "work"], ignoreOrder: true);
    }

    [Theory]
    [InlineData("/usr/kennel-test")]
    [InlineData("/kennel-test")]
    [InlineData("/etc/kennel-test")]
    [InlineData("/dev/kennel-test")]
    public async Task Cannot_write_outside_tmp_work_and_dev_shm(string path)
    {
        var run = await _host.RunAsync($"echo x > {path}");

        run.ExitCode.ShouldNotBe(0);
        run.Stderr.ShouldContain("Read-only file system");
        File.Exists(path).ShouldBeFalse();
    }

    [Fact]
    public async Task Cannot_replace_the_etc_files()
    {
        var run = await _host.RunAsync("echo 'evil:x:0:0::/:/bin/sh' >> /etc/passwd");

        run.ExitCode.ShouldNotBe(0);
        foreach (var etc in Directory.GetDirectories(_host.SharedDirectory, "etc-*"))
        {
            (await File.ReadAllTextAsync(Path.Join(etc, "passwd"))).ShouldNotContain("evil");
        }
    }

    [Fact]
    public void The_published_etc_is_readable_by_all_and_writable_by_none_but_its_owner()
    {
        // The sandbox's uid reads it through bwrap's bind; nobody but the worker may change what sandboxes see.
        var directories = Directory.GetDirectories(_host.SharedDirectory, "etc-*");

        directories.ShouldNotBeEmpty();
        const UnixFileMode othersWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
        (File.GetUnixFileMode(_host.SharedDirectory) & othersWrite).ShouldBe(UnixFileMode.None);
        foreach (var etc in directories)
        {
            File.GetUnixFileMode(etc).ShouldBe((UnixFileMode)0b111_101_101);
            foreach (var file in Directory.GetFiles(etc))
            {
                File.GetUnixFileMode(file).ShouldBe((UnixFileMode)0b100_100_100, file);
            }
        }

        if (Environment.IsPrivilegedProcess)
        {
            // From root the sandbox uid is not the worker's, so the files live outside the private state directory.
            _host.SharedDirectory.ShouldNotStartWith(_host.StateDirectory + "/");
        }
    }
}
