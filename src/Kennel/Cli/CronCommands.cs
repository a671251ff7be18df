using System.CommandLine;
using System.Globalization;
using Kennel.Contracts;
using Kennel.Contracts.Cron;
using Kennel.ControlPlane.Mcp.AgentTools;

namespace Kennel.Cli;

/// <summary><c>kennel cron list|add|show|remove|run|enable|disable|runs</c>: the workspace's cron jobs over <c>/v1/cron</c>.</summary>
public static class CronCommands
{
    public static Command Build()
    {
        var cron = new Command("cron", """
            Cron jobs: an agent turn or a sandbox workload on a schedule, each due run fired exactly once.

              kennel cron add digest --agent main --message 'Summarise the day.' --cron '0 18 * * 1-5' --tz Europe/Berlin
              kennel cron add reminder --message 'Remind me to call Ada.' --at 2026-12-24T15:00:00Z --delete-after-run
              kennel cron add backup --every 6h --snapshot test-minimal -- sh -c 'make backup'
              kennel cron runs digest --status failed,timed_out
            Reading needs mcp:read; add, remove, run, enable and disable need mcp:write.
            """);
        cron.Subcommands.Add(List());
        cron.Subcommands.Add(CronAddCommand.Build());
        cron.Subcommands.Add(Show());
        cron.Subcommands.Add(Remove());
        cron.Subcommands.Add(Run());
        cron.Subcommands.Add(SetEnabled("enable", true, "Enable a job: it next runs at its first time from now; what it missed while disabled does not run."));
        cron.Subcommands.Add(SetEnabled("disable", false, "Disable a job: it stops firing until enabled; a run going now finishes."));
        cron.Subcommands.Add(Runs());
        return cron;
    }

    internal static Argument<string> Job() => new("job") { Description = "The job: its id (cron_…) or its name." };

    internal static string Path(ParseResult parse, Argument<string> job, string suffix = "") =>
        $"v1/cron/{Uri.EscapeDataString(parse.GetValue(job)!)}{suffix}";

    private static Command List()
    {
        var enabled = new Option<string?>("--enabled") { Description = "all (default), enabled or disabled." };
        enabled.AcceptOnlyFromAmong("all", "enabled", "disabled");
        var limit = new Option<int?>("--limit") { Description = "At most this many jobs (1-200, default 50)." };
        var cursor = new Option<string?>("--cursor") { Description = "The next page: the cursor a previous page printed." };
        var json = CliOptions.Json();
        var list = new Command("list", "List the workspace's cron jobs by name, with schedule, next run, last status and failure streak.")
        {
            enabled, limit, cursor, json,
        };
        list.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var query = CliOptions.Query(("enabled", parse.GetValue(enabled)), ("limit", parse.GetValue(limit)?.ToString(CultureInfo.InvariantCulture)),
                ("cursor", parse.GetValue(cursor)));
            var page = await client.GetAsync($"v1/cron{query}", KennelJson.Default.CronJobPage, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(page, KennelJson.Default.CronJobPage);
                return ExitCodes.Ok;
            }
            var table = new Table("NAME", "STATUS", "SCHEDULE", "NEXT RUN", "LAST", "ERRORS");
            foreach (var job in page.Items)
            {
                table.Add(job.Name, job.Enabled ? "enabled" : "disabled", CronToolText.Schedule(job.Schedule), Time(job.State.NextRunAt),
                    job.State.LastStatus ?? "-", job.State.ConsecutiveErrors.ToString(CultureInfo.InvariantCulture));
            }
            table.Write(Console.Out);
            if (page.NextCursor is { } next)
            {
                Console.Out.WriteLine($"More: kennel cron list --cursor {next}");
            }
            return ExitCodes.Ok;
        });
        return list;
    }

    private static Command Show()
    {
        var job = Job();
        var json = CliOptions.Json();
        var show = new Command("show", "Show a job: its schedule, what it does, where its result goes, its limits and where it stands.") { job, json };
        show.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var found = await client.GetAsync(Path(parse, job), KennelJson.Default.CronJob, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(found, KennelJson.Default.CronJob);
            }
            else
            {
                Describe(found);
            }
            return ExitCodes.Ok;
        });
        return show;
    }

    private static Command Remove()
    {
        var job = Job();
        var remove = new Command("remove", "Remove a job: it never fires again and its waiting runs are cancelled; a run going now finishes, the history stays.")
        {
            job,
        };
        remove.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            await client.DeleteAsync(Path(parse, job), cancellationToken);
            Console.Out.WriteLine($"Removed cron job {parse.GetValue(job)}.");
            return ExitCodes.Ok;
        });
        return remove;
    }

    private static Command Run()
    {
        var job = Job();
        var json = CliOptions.Json();
        var run = new Command("run", """
            Run a job now, due or not, enabled or not (its schedule is unchanged). Prints the run id; refused while a run
            of the job is going unless its overlap is queue.
            """) { job, json };
        run.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var fired = await client.PostAsync(Path(parse, job, "/run"), null, KennelJson.Default.CronRun, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(fired, KennelJson.Default.CronRun);
                return ExitCodes.Ok;
            }
            Console.Out.WriteLine(fired.Id);
            await Console.Error.WriteLineAsync($"{fired.Status}; follow it with: kennel cron runs {fired.JobName}");
            return ExitCodes.Ok;
        });
        return run;
    }

    private static Command SetEnabled(string verb, bool enabled, string description)
    {
        var job = Job();
        var json = CliOptions.Json();
        var command = new Command(verb, description) { job, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var updated = await client.PatchAsync(Path(parse, job), KennelClient.Json(new UpdateCronJobRequest { Enabled = enabled },
                KennelJson.Default.UpdateCronJobRequest), KennelJson.Default.CronJob, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(updated, KennelJson.Default.CronJob);
                return ExitCodes.Ok;
            }
            Console.Out.WriteLine($"{updated.Name} {(updated.Enabled ? "enabled" : "disabled")}; next run {Time(updated.State.NextRunAt)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Runs()
    {
        var job = new Argument<string?>("job") { Description = "Only this job's runs: its id (cron_…) or its name.", Arity = ArgumentArity.ZeroOrOne };
        var status = new Option<string?>("--status")
        {
            Description = "Only runs in these statuses, comma-separated: queued, running, succeeded, failed, timed_out, budget_exceeded, cancelled, skipped.",
        };
        var limit = new Option<int?>("--limit") { Description = "At most this many runs (1-200, default 50)." };
        var cursor = new Option<string?>("--cursor") { Description = "The next page: the cursor a previous page printed." };
        var json = CliOptions.Json();
        var runs = new Command("runs", "The history of cron runs, newest first: each run's trigger, status, error, tokens, cost and delivery.")
        {
            job, status, limit, cursor, json,
        };
        runs.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var query = CliOptions.Query(("job", parse.GetValue(job)), ("status", parse.GetValue(status)),
                ("limit", parse.GetValue(limit)?.ToString(CultureInfo.InvariantCulture)), ("cursor", parse.GetValue(cursor)));
            var page = await client.GetAsync($"v1/cron/runs{query}", KennelJson.Default.CronRunPage, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(page, KennelJson.Default.CronRunPage);
                return ExitCodes.Ok;
            }
            var table = new Table("RUN", "JOB", "TRIGGER", "STATUS", "STARTED", "TOKENS", "COST USD", "DELIVERY", "ERROR");
            foreach (var run in page.Items)
            {
                table.Add(run.Id, run.JobName, run.Trigger, run.Status, CliOptions.Ago(run.StartedAt ?? run.CreatedAt),
                    run.Usage is { } u ? (u.Input + u.Output + u.CacheRead + u.CacheWrite).ToString(CultureInfo.InvariantCulture) : "-",
                    run.CostUsd?.ToString("0.000000", CultureInfo.InvariantCulture), run.Delivery?.Status, run.Error is { } e ? $"{e.Code}: {e.Message}" : "-");
            }
            table.Write(Console.Out);
            if (page.NextCursor is { } next)
            {
                Console.Out.WriteLine($"More: kennel cron runs{(parse.GetValue(job) is { } j ? " " + j : "")} --cursor {next}");
            }
            return ExitCodes.Ok;
        });
        return runs;
    }

    /// <summary>A job for people, as <c>show</c> and <c>add</c> print it.</summary>
    internal static void Describe(CronJob job)
    {
        var output = Console.Out;
        output.WriteLine($"{job.Name} ({job.Id}), {(job.Enabled ? "enabled" : "disabled")}");
        if (job.Description is { Length: > 0 } description)
        {
            output.WriteLine(description);
        }
        output.WriteLine($"schedule     {CronToolText.Schedule(job.Schedule)}");
        output.WriteLine(job.Payload.Kind == "agentTurn"
            ? $"does         agent {job.Agent} in {(job.Payload.Conversation is { } key ? $"conversation {key}" : "a fresh conversation each run")}: {job.Payload.Message}"
            : $"does         workload on {job.Payload.Snapshot}: {job.Payload.Script ?? string.Join(' ', job.Payload.Command ?? [])}");
        output.WriteLine($"delivery     {job.Delivery.Mode}{(job.Delivery.Url is { } url ? " " + url : "")}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"limits       timeout {job.Limits.TimeoutSeconds}s, token budget {(job.Limits.TokenBudget is { } b ? b.ToString(CultureInfo.InvariantCulture) : "none")}, overlap {job.Overlap}{(job.DeleteAfterRun ? ", deleted after it runs" : "")}"));
        output.WriteLine($"next run     {Time(job.State.NextRunAt)}");
        output.WriteLine($"last run     {Time(job.State.LastRunAt)} {job.State.LastStatus}".TrimEnd());
        if (job.State.ConsecutiveErrors > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"failing      {job.State.ConsecutiveErrors} in a row: {job.State.LastError}"));
        }
        if (job.State.BackoffUntil is { } until && until > DateTimeOffset.UtcNow)
        {
            output.WriteLine($"backing off  until {Time(until)}: runs due before then are skipped");
        }
        if (job.State.RunningRunId is { } running)
        {
            output.WriteLine($"running      {running}");
        }
    }

    internal static string Time(DateTimeOffset? at) => at?.ToString("u", CultureInfo.InvariantCulture) ?? "-";
}
