using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;

namespace Kennel.SystemTests.CommandLine;

/// <summary><c>kennel secret …</c> and <c>--secret</c> as a person types them, against a real <c>kennel serve</c>.</summary>
public sealed class SecretCommandTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    private ServeProcess Serve => fixture.Serve;

    [Fact]
    public async Task A_secret_is_read_from_stdin_listed_without_its_value_used_by_a_session_and_a_daemon_and_deleted()
    {
        var set = await Cli.RunWithInputAsync(Serve.CliEnvironment(), "cli value with spaces\n", "secret", "set", "CLI_TOKEN");
        set.ExitCode.ShouldBe(0, set.ToString());
        set.Stdout.ShouldBe("CLI_TOKEN set in workspace 'default'\n");

        var table = (await Serve.CliSucceedsAsync("secret", "list")).Stdout;
        table.ShouldContain("CLI_TOKEN");
        table.ShouldNotContain("cli value");
        var listed = JsonSerializer.Deserialize((await Serve.CliSucceedsAsync("secret", "list", "--json")).Stdout, KennelJson.Default.SecretList)!;
        listed.Items.ShouldContain(s => s.Name == "CLI_TOKEN" && s.Workspace == "default");

        // One trailing newline (as echo adds) is dropped; printenv adds its own.
        (await Serve.CliSucceedsAsync("session", "run", "--secret", "CLI_TOKEN", "--", "printenv", "CLI_TOKEN")).Stdout.ShouldBe("cli value with spaces\n");
        var replaced = await Cli.RunWithInputAsync(Serve.CliEnvironment(), "two\nlines", "secret", "set", "CLI_TOKEN", "--json");
        replaced.ExitCode.ShouldBe(0, replaced.ToString());
        JsonSerializer.Deserialize(replaced.Stdout, KennelJson.Default.Secret)!.Name.ShouldBe("CLI_TOKEN");
        (await Serve.CliSucceedsAsync("session", "run", "--secret", "CLI_TOKEN", "--", "printenv", "CLI_TOKEN")).Stdout.ShouldBe("two\nlines\n");

        var daemon = JsonSerializer.Deserialize((await Serve.CliSucceedsAsync(
            "daemon", "create", "cli-secret-user", "--webhook", "none", "--secret", "CLI_TOKEN", "--json", "--", "printenv", "CLI_TOKEN")).Stdout,
            KennelJson.Default.Daemon)!;
        daemon.Workload.Secrets.ShouldBe(["CLI_TOKEN"]);
        var run = (await Serve.CliSucceedsAsync("daemon", "trigger", "cli-secret-user")).Stdout.Trim();
        var session = JsonSerializer.Deserialize((await Serve.CliSucceedsAsync("session", "wait", run, "--json")).Stdout, KennelJson.Default.Session)!;
        session.Status.ShouldBe(SessionStatus.Succeeded, session.Stderr);
        session.Stdout.ShouldBe("two\nlines\n");
        await Serve.CliSucceedsAsync("daemon", "delete", "cli-secret-user");

        var deleted = await Serve.CliSucceedsAsync("secret", "delete", "CLI_TOKEN", "--json");
        deleted.Stdout.ShouldBe("{\"name\":\"CLI_TOKEN\",\"deleted\":true}\n");
        (await Serve.CliSucceedsAsync("secret", "list")).Stdout.ShouldNotContain("CLI_TOKEN");
        var again = await Serve.CliAsync("secret", "delete", "CLI_TOKEN");
        again.ExitCode.ShouldBe(1, again.ToString());
        again.Stderr.ShouldContain("not_found");
        var unknown = await Serve.CliAsync("session", "run", "--secret", "CLI_TOKEN", "--", "true");
        unknown.ExitCode.ShouldBe(1, unknown.ToString());
        unknown.Stderr.ShouldContain("(field: secrets) [secret_not_found]");
        (Serve.Process.Stdout + Serve.Process.Stderr).ShouldNotContain("cli value with spaces", customMessage: "the server never logs a value");
    }

    [Fact]
    public async Task A_value_is_never_taken_from_the_command_line_and_an_empty_stdin_is_refused()
    {
        var inArgv = await Serve.CliAsync("secret", "set", "CLI_ARGV", "the-value");
        inArgv.ExitCode.ShouldNotBe(0, inArgv.ToString());
        inArgv.Stderr.ShouldContain("the-value", customMessage: "named as the unexpected argument");
        var empty = await Cli.RunWithInputAsync(Serve.CliEnvironment(), "", "secret", "set", "CLI_EMPTY");
        empty.ExitCode.ShouldBe(2, empty.ToString());
        empty.Stderr.ShouldContain("No value on stdin");
        var badName = await Cli.RunWithInputAsync(Serve.CliEnvironment(), "v", "secret", "set", "bad-name");
        badName.ExitCode.ShouldBe(1, badName.ToString());
        badName.Stderr.ShouldContain("(field: name)");
        (await Serve.CliSucceedsAsync("secret", "list", "--json")).Stdout.ShouldNotContain("CLI_ARGV");

        var help = (await Serve.CliSucceedsAsync("secret", "set", "--help")).Stdout;
        help.ShouldContain("stdin");
        help.ShouldContain("trailing newline");
        help.ShouldContain("--json");
        var verbs = (await Serve.CliSucceedsAsync("secret", "--help")).Stdout;
        foreach (var verb in new[] { "set", "list", "delete" })
        {
            verbs.ShouldContain(verb);
        }
        (await Serve.CliSucceedsAsync("session", "run", "--help")).Stdout.ShouldContain("--secret");
        (await Serve.CliSucceedsAsync("daemon", "create", "--help")).Stdout.ShouldContain("--secret");
    }
}
