using System.Text.Json;
using Kennel.Contracts;
using Kennel.Testing;

namespace Kennel.SystemTests.CommandLine;

/// <summary><c>kennel cron …</c> as a person types it, against a real <c>kennel serve</c> with an OpenAI-compatible OPENAI_BASE_URL.</summary>
public sealed class CronCommandTests : IAsyncLifetime
{
    private ScriptedProvider model = null!;
    private ServeProcess serve = null!;

    public async Task InitializeAsync()
    {
        model = await ScriptedProvider.StartAsync();
        serve = await ServeProcess.StartAsync(TestStore.Sqlite, new Dictionary<string, string> { ["OPENAI_BASE_URL"] = new Uri(model.Url, "v1").ToString() });
    }

    public async Task DisposeAsync()
    {
        await serve.DisposeAsync();
        await model.DisposeAsync();
    }

    [Fact]
    public async Task An_agent_turn_job_is_added_listed_run_by_hand_disabled_enabled_and_removed()
    {
        var added = await serve.CliSucceedsAsync("cron", "add", "digest", "--message", "Summarise the day.", "--cron", "0 18 * * 1-5", "--tz", "Europe/Berlin",
            "--description", "the daily digest", "--timeout", "120", "--token-budget", "5000");
        added.Stdout.ShouldContain("digest (cron_");
        added.Stdout.ShouldContain("schedule     cron '0 18 * * 1-5' in Europe/Berlin");
        added.Stdout.ShouldContain("does         agent main in a fresh conversation each run: Summarise the day.");
        added.Stdout.ShouldContain("limits       timeout 120s, token budget 5000, overlap skip");
        added.Stdout.Split('\n').Single(l => l.StartsWith("next runs", StringComparison.Ordinal)).Split(',').Length.ShouldBe(3);
        added.Stderr.ShouldNotContain("webhook");

        var table = (await serve.CliSucceedsAsync("cron", "list")).Stdout;
        table.ShouldContain("NAME");
        table.ShouldContain("digest  enabled  cron '0 18 * * 1-5' in Europe/Berlin");
        var job = JsonSerializer.Deserialize((await serve.CliSucceedsAsync("cron", "show", "digest", "--json")).Stdout, KennelJson.Default.CronJob)!;
        job.Limits.TokenBudget.ShouldBe(5000);
        (await serve.CliSucceedsAsync("cron", "show", job.Id)).Stdout.ShouldContain("the daily digest");

        model.ThenEvents(ModelScript.Answer("A quiet day."));
        var run = await serve.CliSucceedsAsync("cron", "run", "digest");
        var runId = run.Stdout.Trim();
        runId.ShouldStartWith("crun_");
        run.Stderr.ShouldContain("kennel cron runs digest");
        using var http = serve.Client();
        await http.WaitForCronRunsAsync("?job=digest", p => p.Items.Count == 1 && p.Items[0].Status == "succeeded");
        var runs = (await serve.CliSucceedsAsync("cron", "runs", "digest")).Stdout;
        runs.ShouldContain($"{runId}  digest  manual   succeeded");
        runs.ShouldContain("110"); // the scripted answer's 100 input and 10 output tokens
        var page = JsonSerializer.Deserialize((await serve.CliSucceedsAsync("cron", "runs", "--status", "succeeded", "--json")).Stdout, KennelJson.Default.CronRunPage)!;
        page.Items.Single().Id.ShouldBe(runId);
        (await serve.CliSucceedsAsync("cron", "runs", "--status", "failed,skipped")).Stdout.ShouldBe("(none)\n");

        (await serve.CliSucceedsAsync("cron", "disable", "digest")).Stdout.ShouldBe("digest disabled; next run -\n");
        (await serve.CliSucceedsAsync("cron", "list", "--enabled", "enabled")).Stdout.ShouldBe("(none)\n");
        (await serve.CliSucceedsAsync("cron", "list", "--enabled", "disabled")).Stdout.ShouldContain("digest");
        (await serve.CliSucceedsAsync("cron", "enable", "digest")).Stdout.ShouldStartWith("digest enabled; next run 20");

        (await serve.CliSucceedsAsync("cron", "remove", "digest")).Stdout.ShouldBe("Removed cron job digest.\n");
        var gone = await serve.CliAsync("cron", "show", "digest");
        gone.ExitCode.ShouldBe(1, gone.ToString());
        gone.Stderr.ShouldContain("not_found");
        (await serve.CliSucceedsAsync("cron", "runs", "--json")).Stdout.ShouldContain(runId); // the history stays
    }

    [Fact]
    public async Task A_workload_job_runs_its_command_and_a_webhook_job_prints_its_secret_once()
    {
        var workload = JsonSerializer.Deserialize((await serve.CliSucceedsAsync("cron", "add", "nightly", "--every", "1d", "--env", "MODE=nightly",
            "--json", "--", "sh", "-c", "echo $MODE $KENNEL_CRON_JOB")).Stdout, KennelJson.Default.CreatedCronJob)!;
        workload.Job.Payload.Kind.ShouldBe("workload");
        workload.Job.Payload.Command.ShouldBe(["sh", "-c", "echo $MODE $KENNEL_CRON_JOB"]);
        workload.Job.Agent.ShouldBeNull();
        workload.NextRuns.Count.ShouldBe(3);

        var runId = (await serve.CliSucceedsAsync("cron", "run", "nightly")).Stdout.Trim();
        using var http = serve.Client();
        var page = await http.WaitForCronRunsAsync("?job=nightly", p => p.Items.Count == 1 && p.Items[0].Status is "succeeded" or "failed");
        page.Items[0].Status.ShouldBe("succeeded", page.Items[0].Error?.Message);
        var session = JsonSerializer.Deserialize((await serve.CliSucceedsAsync("session", "get", page.Items[0].SessionId!, "--json")).Stdout,
            KennelJson.Default.Session)!;
        session.Stdout.ShouldBe("nightly nightly\n");
        page.Items[0].Id.ShouldBe(runId);

        var hook = await serve.CliSucceedsAsync("cron", "add", "hooked", "--message", "ping", "--every", "2h", "--webhook", "https://example.com/kennel");
        hook.Stdout.ShouldContain("delivery     webhook https://example.com/kennel");
        hook.Stdout.ShouldContain("webhook secret  whsec_");
        hook.Stderr.ShouldContain("Keep the webhook secret now");
        var shown = (await serve.CliSucceedsAsync("cron", "show", "hooked", "--json")).Stdout;
        shown.ShouldNotContain("whsec_");
    }

    [Fact]
    public async Task Bad_input_is_refused_with_a_clear_message_and_a_non_zero_exit()
    {
        var cases = new (string[] Args, int Exit, string Says)[]
        {
            (["cron", "add", "a", "--message", "hi"], 2, "Give one schedule"),
            (["cron", "add", "a", "--message", "hi", "--every", "5m", "--at", "2030-01-01T00:00:00Z"], 2, "Give one schedule"),
            (["cron", "add", "a", "--message", "hi", "--every", "5m", "--tz", "Europe/Berlin"], 2, "--tz is the time zone of --cron"),
            (["cron", "add", "a", "--every", "5m"], 2, "Give one payload"),
            (["cron", "add", "a", "--message", "hi", "--script", "true", "--every", "5m"], 2, "Give one payload"),
            (["cron", "add", "a", "--script", "true", "--every", "5m", "--", "echo"], 2, "not both"),
            (["cron", "add", "a", "--message", "hi", "--every", "5m", "--secret", "TOKEN"], 2, "belong to a workload"),
            (["cron", "add", "a", "--script", "true", "--every", "5m", "--conversation", "main"], 2, "--conversation belongs to --message"),
            (["cron", "add", "a", "--script", "true", "--every", "5m", "--env", "NOEQUALS"], 2, "--env takes NAME=VALUE"),
            (["cron", "add", "a", "--message", "hi", "--every", "30s"], 1, "(field: schedule.every)"),
            (["cron", "add", "a", "--message", "hi", "--cron", "61 * * * *"], 1, "(field: schedule.expr)"),
            (["cron", "add", "a", "--message", "hi", "--cron", "@daily", "--tz", "Mars/Olympus"], 1, "(field: schedule.tz)"),
            (["cron", "add", "a", "--message", "hi", "--at", "2020-01-01T00:00:00Z"], 1, "(field: schedule.at)"),
            (["cron", "add", "a", "--message", "hi", "--every", "5m", "--webhook", "ftp://example.com"], 1, "(field: delivery.url)"),
            (["cron", "add", "a", "--message", "hi", "--every", "5m", "--agent", "nobody"], 1, "(field: agent)"),
            (["cron", "add", "a", "--message", "hi", "--every", "5m", "--timeout", "0"], 1, "(field: limits.timeoutSeconds)"),
            (["cron", "add", "a", "--message", "hi", "--every", "5m", "--delete-after-run"], 1, "(field: deleteAfterRun)"),
            (["cron", "add", "Not A Name", "--message", "hi", "--every", "5m"], 1, "(field: name)"),
            (["cron", "list", "--limit", "0"], 1, "(field: limit)"),
            (["cron", "runs", "--status", "sleeping"], 1, "(field: status)"),
            (["cron", "runs", "--cursor", "page-2"], 1, "(field: cursor)"),
            (["cron", "run", "nope"], 1, "not_found"),
            (["cron", "remove", "nope"], 1, "not_found"),
            (["cron", "enable", "nope"], 1, "not_found"),
            (["cron", "runs", "nope"], 1, "not_found"),
        };
        foreach (var (args, exit, says) in cases)
        {
            var result = await serve.CliAsync(args);
            result.ExitCode.ShouldBe(exit, result.ToString());
            result.Stderr.ShouldContain(says, Case.Sensitive, result.ToString());
            result.Stderr.ShouldNotContain("Exception");
        }
        var unknownOverlap = await serve.CliAsync("cron", "add", "a", "--message", "hi", "--every", "5m", "--overlap", "parallel");
        unknownOverlap.ExitCode.ShouldNotBe(0, unknownOverlap.ToString());
        (await serve.CliAsync("cron", "list", "--enabled", "sometimes")).ExitCode.ShouldNotBe(0);
        (await serve.CliSucceedsAsync("cron", "list")).Stdout.ShouldBe("(none)\n"); // nothing refused was added
    }

    [Fact]
    public async Task Help_explains_the_cron_commands()
    {
        var help = (await serve.CliSucceedsAsync("cron", "--help")).Stdout;
        foreach (var verb in new[] { "list", "add", "show", "remove", "run", "enable", "disable", "runs" })
        {
            help.ShouldContain(verb);
        }
        var add = (await serve.CliSucceedsAsync("cron", "add", "--help")).Stdout;
        foreach (var option in new[] { "--cron", "--tz", "--at", "--every", "--message", "--script", "--webhook", "--token-budget", "--overlap", "--delete-after-run" })
        {
            add.ShouldContain(option);
        }
        (await serve.CliSucceedsAsync("--help")).Stdout.ShouldContain("cron");
    }
}
