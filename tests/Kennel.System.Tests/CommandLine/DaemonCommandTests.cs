using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;

namespace Kennel.SystemTests.CommandLine;

/// <summary><c>kennel daemon …</c> as a person types it, against a real <c>kennel serve</c>.</summary>
public sealed class DaemonCommandTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    private ServeProcess Serve => fixture.Serve;

    [Fact]
    public async Task A_daemon_is_created_listed_triggered_paused_resumed_and_deleted()
    {
        var created = JsonSerializer.Deserialize((await Serve.CliSucceedsAsync(
            "daemon", "create", "cli-nightly", "--cron", "30 2 * * *", "--timezone", "Europe/Berlin", "--description", "triage",
            "--env", "MODE=nightly", "--concurrency", "skip", "--json", "--", "sh", "-c", "echo $MODE; cat $KENNEL_TRIGGER_PAYLOAD")).Stdout,
            KennelJson.Default.Daemon)!;
        created.Trigger.Cron.ShouldBe("30 2 * * *");
        created.Trigger.NextRunAt.ShouldNotBeNull();
        created.Workload.Command.ShouldBe(["sh", "-c", "echo $MODE; cat $KENNEL_TRIGGER_PAYLOAD"]);

        var table = (await Serve.CliSucceedsAsync("daemon", "list")).Stdout;
        table.ShouldContain("cli-nightly");
        table.ShouldContain("schedule '30 2 * * *' Europe/Berlin");

        var sessionId = (await Serve.CliSucceedsAsync("daemon", "trigger", "cli-nightly", "--payload", """{"by":"hand"}""")).Stdout.Trim();
        sessionId.ShouldStartWith("ses_");
        var session = JsonSerializer.Deserialize((await Serve.CliSucceedsAsync("session", "wait", sessionId, "--json")).Stdout, KennelJson.Default.Session)!;
        session.Status.ShouldBe(SessionStatus.Succeeded, session.Stderr);
        session.Stdout.ShouldBe("nightly\n{\"by\":\"hand\"}");

        var shown = (await Serve.CliSucceedsAsync("daemon", "get", "cli-nightly")).Stdout;
        shown.ShouldContain(sessionId);
        shown.ShouldContain("1 sessions, 1 succeeded");

        (await Serve.CliSucceedsAsync("daemon", "pause", "cli-nightly")).Stdout.ShouldContain("paused");
        (await Serve.CliSucceedsAsync("daemon", "update", "cli-nightly", "--cron", "@hourly")).Stdout.ShouldContain("schedule '@hourly' UTC");
        (await Serve.CliSucceedsAsync("daemon", "resume", "cli-nightly")).Stdout.ShouldContain("active");
        await Serve.CliSucceedsAsync("daemon", "delete", "cli-nightly");
        var gone = await Serve.CliAsync("daemon", "get", "cli-nightly");
        gone.ExitCode.ShouldNotBe(0);
        gone.Stderr.ShouldContain("not_found");
    }

    [Fact]
    public async Task A_webhook_secret_comes_from_an_environment_variable_and_is_never_printed()
    {
        var env = new Dictionary<string, string?>(Serve.CliEnvironment()) { ["HOOK_SECRET"] = "from-the-environment" };

        var created = await Cli.SucceedAsync(env, "daemon", "create", "cli-hook", "--webhook", "hmac-sha256", "--secret-env", "HOOK_SECRET", "--script", "true");
        created.Stdout.ShouldContain("webhook hmac-sha256 POST /v1/webhooks/default/cli-hook");
        var json = (await Serve.CliSucceedsAsync("daemon", "get", "cli-hook", "--json")).Stdout;
        json.ShouldContain("\"secretSet\":true");
        json.ShouldNotContain("from-the-environment");

        var refused = await Serve.CliAsync("daemon", "create", "cli-unsigned", "--webhook", "hmac-sha256", "--script", "true");
        refused.ExitCode.ShouldNotBe(0);
        refused.Stderr.ShouldContain("trigger.secret");
    }

    [Fact]
    public async Task Help_explains_the_daemon_commands()
    {
        var help = (await Serve.CliSucceedsAsync("daemon", "--help")).Stdout;
        foreach (var verb in new[] { "list", "get", "create", "update", "delete", "pause", "resume", "trigger", "KENNEL_TRIGGER_PAYLOAD" })
        {
            help.ShouldContain(verb);
        }
        var create = (await Serve.CliSucceedsAsync("daemon", "create", "--help")).Stdout;
        create.ShouldContain("--cron");
        create.ShouldContain("--webhook");
        create.ShouldContain("--secret-env");
    }
}
