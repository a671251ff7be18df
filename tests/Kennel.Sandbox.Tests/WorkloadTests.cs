namespace Kennel.Sandbox.Tests;

/// <summary>What a workload can do: run a shell and coreutils, see its environment, write its working directory.</summary>
public sealed class WorkloadTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>
{
    private readonly SandboxHost _host = sandbox.Host;

    [Fact]
    public async Task Echo_prints_to_stdout_and_exits_zero()
    {
        var run = await _host.RunAsync("echo hello");

        run.ExitCode.ShouldBe(0);
        run.Stdout.ShouldBe("hello\n");
        run.Stderr.ShouldBeEmpty();
    }

    [Fact]
    public async Task Exit_code_is_the_workloads()
    {
        var run = await _host.RunAsync("echo oops >&2; exit 3");

        run.ExitCode.ShouldBe(3);
        run.Stderr.ShouldBe("oops\n");
    }

    [Fact]
    public async Task A_signal_reports_128_plus_its_number()
    {
        var run = await _host.RunAsync("kill -TERM $$");

        run.ExitCode.ShouldBe(128 + 15);
    }

    [Fact]
    public async Task Coreutils_work()
    {
        var run = await _host.RunAsync("""
            printf 'abc\n' | sha256sum
            printf 'a\nb\nc\n' | wc -l
            printf 'x' > f && cat f && echo
            ls /usr/bin/ls
            """);

        run.ExitCode.ShouldBe(0, run.Stderr);
        run.Stdout.ShouldBe("""
            edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb  -
            3
            x
            /usr/bin/ls

            """);
    }

    [Fact]
    public async Task Environment_is_the_sandboxes_plus_the_specs_and_nothing_of_the_host()
    {
        Environment.SetEnvironmentVariable("KENNEL_HOST_ONLY", "leaked");

        var run = await _host.RunAsync("env", env: new Dictionary<string, string> { ["GREETING"] = "hi there", ["EMPTY"] = "" });

        run.ExitCode.ShouldBe(0, run.Stderr);
        var variables = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        variables.ShouldContain("PATH=/usr/local/bin:/usr/bin:/bin");
        variables.ShouldContain("HOME=/work");
        variables.ShouldContain("USER=sandbox");
        variables.ShouldContain("LANG=C.UTF-8");
        variables.ShouldContain("GREETING=hi there");
        variables.ShouldContain("EMPTY=");
        run.Stdout.ShouldNotContain("KENNEL_HOST_ONLY");
    }

    [Fact]
    public async Task Workdir_is_work_and_writable_and_tmp_is_writable()
    {
        var run = await _host.RunAsync("pwd; echo w > file && cat file; echo t > /tmp/file && cat /tmp/file");

        run.ExitCode.ShouldBe(0, run.Stderr);
        run.Stdout.ShouldBe("/work\nw\nt\n");
    }

    [Fact]
    public async Task Runs_as_uid_1000_named_sandbox_on_host_sandbox()
    {
        var run = await _host.RunAsync("id -u; id -g; id -un; hostname");

        run.ExitCode.ShouldBe(0, run.Stderr);
        run.Stdout.ShouldBe("1000\n1000\nsandbox\nsandbox\n");
    }

    [Fact]
    public async Task Stdin_is_closed()
    {
        var run = await _host.RunAsync("cat; echo done");

        run.ExitCode.ShouldBe(0);
        run.Stdout.ShouldBe("done\n");
    }

    [Fact]
    public async Task Argv_reaches_the_program_verbatim()
    {
        var spec = SandboxHost.Spec("unused") with { Argv = ["printf", "%s|", "a b", "$HOME", "'q'", "-- x"] };

        var run = await _host.RunAsync(spec);

        run.ExitCode.ShouldBe(0, run.Stderr);
        run.Stdout.ShouldBe("a b|$HOME|'q'|-- x|");
    }
}
