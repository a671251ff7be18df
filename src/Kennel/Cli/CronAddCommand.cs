using System.CommandLine;
using System.Globalization;
using Kennel.Contracts;
using Kennel.Contracts.Cron;

namespace Kennel.Cli;

/// <summary><c>kennel cron add</c>: a job from options, checked for what only the command line can get wrong; the server checks the rest.</summary>
public static class CronAddCommand
{
    public static Command Build()
    {
        var name = new Argument<string>("name") { Description = "The job's name, unique in the workspace: a-z, 0-9, '-' and '_'." };
        var agent = new Option<string?>("--agent") { Description = "The agent that answers --message (default main); for a workload, optional." };
        var message = new Option<string?>("--message") { Description = "An agent turn: what to say to the agent on each run." };
        var cron = new Option<string?>("--cron") { Description = "Run on a cron schedule: 5 fields, or @hourly, @daily, @weekly, @monthly, @yearly." };
        var tz = new Option<string?>("--tz") { Description = "IANA time zone of --cron, such as Europe/Berlin (default UTC)." };
        var at = new Option<string?>("--at") { Description = "Run once at this ISO 8601 time, such as 2026-12-24T15:00:00Z (UTC when no offset)." };
        var every = new Option<string?>("--every") { Description = "Run at a fixed interval from now: 30m, 1h30m, 2h, 1d or PT30M; at least 1m." };
        var conversation = new Option<string?>("--conversation")
        {
            Description = "Run --message in the agent's conversation with this key (such as main). Default: a fresh conversation each run.",
        };
        var description = new Option<string?>("--description") { Description = "What the job is for." };
        var webhook = new Option<string?>("--webhook") { Description = "POST each run's result to this http(s) URL, signed with a secret printed once." };
        var timeout = new Option<int?>("--timeout") { Description = "Each run's time limit in seconds (1-86400, default 600); past it the run is timed_out." };
        var budget = new Option<long?>("--token-budget") { Description = "The most tokens an agent turn may use; past it the run is budget_exceeded." };
        var overlap = new Option<string?>("--overlap") { Description = "A run falling due while the last is going: skip (default, recorded as skipped) or queue." };
        overlap.AcceptOnlyFromAmong("skip", "queue");
        var disabled = new Option<bool>("--disabled") { Description = "Create it disabled: it does not fire until kennel cron enable." };
        var deleteAfterRun = new Option<bool>("--delete-after-run") { Description = "For --at: remove the job once it has run, instead of disabling it." };
        var script = new Option<string?>("--script") { Description = "A workload: shell script each run executes with /bin/sh -c, instead of a command after --." };
        var snapshot = new Option<string?>("--snapshot") { Description = "Snapshot a workload boots (default test-minimal)." };
        var env = new Option<string[]>("--env", "-e")
        {
            Description = "Environment variable NAME=VALUE for a workload; repeatable. Anyone who can read the job sees it: pass credentials with --secret.",
        };
        var secret = SessionCommands.Secret("A workload sees the workspace's secret NAME (kennel secret set NAME) as the variable NAME; repeatable.");
        var command = new Argument<string[]>("command") { Description = "A workload: the program and its arguments, after --.", Arity = ArgumentArity.ZeroOrMore };
        var json = CliOptions.Json();
        var add = new Command("add", """
            Add a cron job. Give one schedule (--cron with --tz, --at or --every) and one payload: --message for an
            agent turn, or --script or a command after -- for a sandbox workload. Prints the job and its next three runs,
            and, with --webhook, the signing secret: it is shown this once. Needs mcp:write.
            """)
        {
            name, agent, message, cron, tz, at, every, conversation, description, webhook, timeout, budget, overlap, disabled, deleteAfterRun,
            script, snapshot, env, secret, json, command,
        };
        add.SetAction(async (parse, cancellationToken) =>
        {
            var argv = parse.GetValue(command) ?? [];
            var scriptText = parse.GetValue(script);
            var messageText = parse.GetValue(message);
            var workload = argv.Length > 0 || scriptText is not null;
            if (argv.Length > 0 && scriptText is not null)
            {
                throw new CliException("Give either --script '...' or a command after --, not both.", ExitCodes.Usage);
            }
            if (workload == (messageText is not null))
            {
                throw new CliException("Give one payload: --message TEXT for an agent turn, or --script '...' or a command after -- for a workload.", ExitCodes.Usage);
            }
            var envPairs = SessionCommands.Pairs(parse.GetValue(env), "--env");
            var secrets = parse.GetValue(secret) is { Length: > 0 } names ? names : null;
            if (!workload && (parse.GetValue(snapshot) is not null || envPairs is not null || secrets is not null))
            {
                throw new CliException("--snapshot, --env and --secret belong to a workload (--script or a command after --), not to --message.", ExitCodes.Usage);
            }
            if (workload && parse.GetValue(conversation) is not null)
            {
                throw new CliException("--conversation belongs to --message, not to a workload.", ExitCodes.Usage);
            }
            var request = new CreateCronJobRequest
            {
                Name = parse.GetValue(name),
                Description = parse.GetValue(description),
                Agent = parse.GetValue(agent) ?? (workload ? null : "main"),
                Enabled = parse.GetValue(disabled) ? false : null,
                Schedule = Schedule(parse.GetValue(cron), parse.GetValue(tz), parse.GetValue(at), parse.GetValue(every)),
                Payload = workload
                    ? new CronPayload
                    {
                        Kind = "workload",
                        Script = scriptText,
                        Command = argv.Length > 0 ? argv : null,
                        Snapshot = parse.GetValue(snapshot),
                        Env = envPairs,
                        Secrets = secrets,
                    }
                    : new CronPayload { Kind = "agentTurn", Message = messageText, Conversation = parse.GetValue(conversation) },
                Delivery = parse.GetValue(webhook) is { } url ? new CronDelivery { Mode = "webhook", Url = url } : null,
                Limits = parse.GetValue(timeout) is null && parse.GetValue(budget) is null
                    ? null
                    : new CronLimits { TimeoutSeconds = parse.GetValue(timeout), TokenBudget = parse.GetValue(budget) },
                Overlap = parse.GetValue(overlap),
                DeleteAfterRun = parse.GetValue(deleteAfterRun) ? true : null,
            };
            using var client = KennelClient.FromEnvironment();
            var created = await client.PostAsync("v1/cron", KennelClient.Json(request, KennelJson.Default.CreateCronJobRequest),
                KennelJson.Default.CreatedCronJob, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(created, KennelJson.Default.CreatedCronJob);
            }
            else
            {
                CronCommands.Describe(created.Job);
                Console.Out.WriteLine("next runs    " + (created.NextRuns.Count == 0
                    ? "none"
                    : string.Join(", ", created.NextRuns.Select(t => t.ToString("u", CultureInfo.InvariantCulture)))));
                if (created.WebhookSecret is { } signing)
                {
                    Console.Out.WriteLine($"webhook secret  {signing}");
                }
            }
            if (created.WebhookSecret is not null)
            {
                await Console.Error.WriteLineAsync(
                    "Keep the webhook secret now: Kennel keeps it encrypted and never shows it again. Your receiver checks each delivery's signature with it.");
            }
            return ExitCodes.Ok;
        });
        return add;
    }

    /// <summary>The one schedule the options give; a usage error when they give none, several, or --tz without --cron.</summary>
    private static CronSchedule Schedule(string? cron, string? tz, string? at, string? every)
    {
        if (new[] { cron, at, every }.Count(s => s is not null) != 1)
        {
            throw new CliException("Give one schedule: --cron EXPRESSION (with --tz ZONE), --at TIME or --every DURATION.", ExitCodes.Usage);
        }
        if (tz is not null && cron is null)
        {
            throw new CliException("--tz is the time zone of --cron; --at takes an offset in its time, and --every counts from now.", ExitCodes.Usage);
        }
        return cron is not null ? new CronSchedule { Kind = "cron", Expr = cron, Tz = tz }
            : at is not null ? new CronSchedule { Kind = "at", At = at }
            : new CronSchedule { Kind = "every", Every = every };
    }
}
