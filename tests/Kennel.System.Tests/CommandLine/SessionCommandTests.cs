using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;

namespace Kennel.SystemTests.CommandLine;

/// <summary><c>kennel session …</c> against a real <c>kennel serve</c>, read the way a person or a script reads it.</summary>
public sealed class SessionCommandTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    private ServeProcess Serve => fixture.Serve;

    [Fact]
    public async Task Run_prints_the_workload_output_and_exits_zero()
    {
        var result = await Serve.CliAsync("session", "run", "--", "echo", "hello");

        result.ExitCode.ShouldBe(0, result.ToString());
        result.Stdout.ShouldBe("hello\n");
        result.Stderr.ShouldBe("");
    }

    [Fact]
    public async Task Run_exits_with_the_workload_exit_code()
    {
        var result = await Serve.CliAsync("session", "run", "--script", "exit 7");

        result.ExitCode.ShouldBe(7, result.ToString());
    }

    [Fact]
    public async Task Run_past_its_timeout_exits_124_and_says_so()
    {
        var result = await Serve.CliAsync("session", "run", "--timeout", "1s", "--", "sleep", "30");

        result.ExitCode.ShouldBe(124, result.ToString());
        result.Stderr.ShouldContain("timed_out");
    }

    [Fact]
    public async Task Run_sends_the_workload_stdout_and_stderr_to_its_own()
    {
        var result = await Serve.CliAsync("session", "run", "--script", "echo to-out; echo to-err >&2");

        result.ExitCode.ShouldBe(0, result.ToString());
        result.Stdout.ShouldBe("to-out\n");
        result.Stderr.ShouldBe("to-err\n");
    }

    [Fact]
    public async Task Run_with_json_prints_only_the_finished_session()
    {
        var result = await Serve.CliAsync("session", "run", "--json", "--env", "GREETING=hi", "--script", "echo $GREETING; echo oops >&2");

        result.ExitCode.ShouldBe(0, result.ToString());
        var session = JsonSerializer.Deserialize(result.Stdout, KennelJson.Default.Session)!;
        session.Id.ShouldStartWith("ses_");
        session.Status.ShouldBe(SessionStatus.Succeeded);
        session.ExitCode.ShouldBe(0);
        session.Stdout.ShouldBe("hi\n");
        session.Stderr.ShouldBe("oops\n");
        session.Env["GREETING"].ShouldBe("hi");
    }

    [Fact]
    public async Task Detach_prints_an_id_that_get_wait_and_list_know()
    {
        var detached = await Serve.CliSucceedsAsync("session", "run", "--detach", "--script", "sleep 1; echo later");
        var id = detached.Stdout.Trim();
        id.ShouldMatch("^ses_[0-9a-z]+$");

        var got = JsonSerializer.Deserialize((await Serve.CliSucceedsAsync("session", "get", id, "--json")).Stdout, KennelJson.Default.Session)!;
        got.Id.ShouldBe(id);
        got.Script.ShouldBe("sleep 1; echo later");

        var waited = await Serve.CliSucceedsAsync("session", "wait", id, "--json");
        var done = JsonSerializer.Deserialize(waited.Stdout, KennelJson.Default.Session)!;
        done.Status.ShouldBe(SessionStatus.Succeeded);
        done.Stdout.ShouldBe("later\n");

        var page = JsonSerializer.Deserialize((await Serve.CliSucceedsAsync("session", "list", "--json")).Stdout, KennelJson.Default.SessionPage)!;
        page.Items.ShouldContain(s => s.Id == id && s.Status == SessionStatus.Succeeded);

        var succeeded = JsonSerializer.Deserialize((await Serve.CliSucceedsAsync("session", "list", "--status", "succeeded", "--limit", "200", "--json")).Stdout,
            KennelJson.Default.SessionPage)!;
        succeeded.Items.ShouldAllBe(s => s.Status == SessionStatus.Succeeded);
        succeeded.Items.ShouldContain(s => s.Id == id);

        (await Serve.CliSucceedsAsync("session", "list")).Stdout.ShouldContain(id);
        var shown = (await Serve.CliSucceedsAsync("session", "get", id)).Stdout;
        shown.ShouldContain("succeeded");
        shown.ShouldContain("later");
    }

    [Fact]
    public async Task Cancel_stops_a_running_session_and_wait_exits_130()
    {
        var id = (await Serve.CliSucceedsAsync("session", "run", "--detach", "--", "sleep", "30")).Stdout.Trim();
        using var client = Serve.Client();
        await client.UntilStatusAsync(id, SessionStatus.Running);

        var cancelled = await Serve.CliSucceedsAsync("session", "cancel", id, "--json");
        JsonSerializer.Deserialize(cancelled.Stdout, KennelJson.Default.Session)!.Id.ShouldBe(id);

        var waited = await Serve.CliAsync("session", "wait", id, "--json");
        waited.ExitCode.ShouldBe(130, waited.ToString());
        JsonSerializer.Deserialize(waited.Stdout, KennelJson.Default.Session)!.Status.ShouldBe(SessionStatus.Cancelled);
    }

    [Fact]
    public async Task An_unknown_session_is_a_one_line_error()
    {
        var result = await Serve.CliAsync("session", "get", "ses_doesnotexist");

        result.ExitCode.ShouldBe(1, result.ToString());
        result.Stderr.ShouldContain("not_found");
        result.Stderr.Trim().Split('\n').Length.ShouldBe(1, result.ToString());
    }

    [Theory]
    [InlineData("session", "run")]
    [InlineData("session", "run", "--timeout", "soon", "--", "true")]
    [InlineData("session", "run", "--env", "NOEQUALS", "--", "true")]
    [InlineData("session", "frobnicate")]
    public async Task Bad_usage_exits_non_zero_with_a_message(params string[] args)
    {
        var result = await Serve.CliAsync(args);

        result.ExitCode.ShouldNotBe(0, result.ToString());
        result.Stderr.ShouldNotBeNullOrWhiteSpace();
    }
}
