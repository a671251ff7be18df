using System.CommandLine;
using System.Globalization;
using Kennel.Contracts;
using Kennel.Contracts.Daemons;
using Kennel.Contracts.Sessions;

namespace Kennel.Cli;

/// <summary><c>kennel daemon list|get|create|update|delete|pause|resume|trigger</c>.</summary>
public static class DaemonCommands
{
    public static Command Build()
    {
        var daemon = new Command("daemon", """
            Manage daemons: workloads that run in a fresh sandbox on a webhook or a cron schedule.

              kennel daemon create pr-reviewer --webhook hmac-sha256 --secret-env GITHUB_SECRET --script 'review.sh'
              kennel daemon create nightly --cron '30 2 * * *' --timezone Europe/Berlin -- make triage
              kennel daemon trigger nightly --payload '{"reason":"by hand"}'
            Each run reads its payload from the file $KENNEL_TRIGGER_PAYLOAD; $KENNEL_TRIGGER_TYPE is webhook, schedule or manual.
            """);
        daemon.Subcommands.Add(List());
        daemon.Subcommands.Add(Get());
        daemon.Subcommands.Add(Create());
        daemon.Subcommands.Add(Update());
        daemon.Subcommands.Add(Delete());
        daemon.Subcommands.Add(SetStatus("pause", "Pause a daemon: its webhook answers 409 and its schedule stops until resumed."));
        daemon.Subcommands.Add(SetStatus("resume", "Resume a paused daemon; its schedule continues from now (no catch-up for the pause)."));
        daemon.Subcommands.Add(Trigger());
        return daemon;
    }

    private static Argument<string> Name() => new("name") { Description = "The daemon's name (a-z, 0-9 and '-')." };

    private static Command List()
    {
        var json = CliOptions.Json();
        var list = new Command("list", "List this workspace's daemons with their trigger, status and next run.") { json };
        list.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var daemons = await client.GetAsync("v1/daemons", KennelJson.Default.DaemonList, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(daemons, KennelJson.Default.DaemonList);
                return ExitCodes.Ok;
            }
            var table = new Table("NAME", "STATUS", "TRIGGER", "NEXT RUN", "CONCURRENCY");
            foreach (var d in daemons.Items)
            {
                table.Add(d.Name, d.Status, Describe(d.Trigger), d.Trigger.NextRunAt?.ToString("u", CultureInfo.InvariantCulture) ?? "-", d.Concurrency);
            }
            table.Write(Console.Out);
            return ExitCodes.Ok;
        });
        return list;
    }

    private static Command Get()
    {
        var name = Name();
        var json = CliOptions.Json();
        var get = new Command("get", "Show a daemon, its newest sessions and the totals of all it ran.") { name, json };
        get.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var d = await client.GetAsync($"v1/daemons/{Uri.EscapeDataString(parse.GetValue(name)!)}", KennelJson.Default.Daemon, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(d, KennelJson.Default.Daemon);
                return ExitCodes.Ok;
            }
            var output = Console.Out;
            await output.WriteLineAsync($"{d.Name} ({d.Status}) in workspace {d.Workspace}");
            if (d.Description.Length > 0)
            {
                await output.WriteLineAsync(d.Description);
            }
            await output.WriteLineAsync($"trigger      {Describe(d.Trigger)}");
            if (d.Trigger.NextRunAt is { } next)
            {
                await output.WriteLineAsync($"next run     {next.ToString("u", CultureInfo.InvariantCulture)}");
            }
            await output.WriteLineAsync($"runs         {(d.Workload.Script is { } s ? s : string.Join(' ', d.Workload.Command ?? []))}");
            await output.WriteLineAsync($"concurrency  {d.Concurrency}");
            if (d.Totals is { } t)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"totals       {t.Sessions} sessions, {t.Succeeded} succeeded, {t.Failed} failed, {t.VcpuSeconds} vCPU-s, {t.CpuSeconds} CPU-s"));
            }
            var table = new Table("SESSION", "TRIGGER", "STATUS", "EXIT", "CREATED");
            foreach (var session in d.RecentSessions ?? [])
            {
                table.Add(session.Id, session.Trigger + (session.CatchUp == true ? " (catch-up)" : ""), session.Status.ToWire(),
                    session.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "-", CliOptions.Ago(session.CreatedAt));
            }
            table.Write(output);
            return ExitCodes.Ok;
        });
        return get;
    }

    /// <summary>The options that define a daemon, shared by create and update.</summary>
    private sealed class DefinitionOptions
    {
        public Option<string?> Description { get; } = new("--description") { Description = "What the daemon is for." };
        public Option<string?> Snapshot { get; } = new("--snapshot") { Description = "Snapshot each run boots (default test-minimal)." };
        public Option<string?> Script { get; } = new("--script") { Description = "Shell script each run executes with /bin/sh -c, instead of a command after --." };
        public Option<string[]> Env { get; } = new("--env", "-e")
        {
            Description = "Environment variable NAME=VALUE for each run; repeatable. Anyone who can read the daemon sees it: pass credentials with --secret.",
        };
        public Option<string[]> Secret { get; } = SessionCommands.Secret("Each run sees the workspace's secret NAME (kennel secret set NAME) as the variable NAME; repeatable.");
        public Option<string?> Timeout { get; } = new("--timeout") { Description = "Each run's time limit: 30s, 10m, 2h, or milliseconds. Default 10m." };
        public Option<int?> Vcpus { get; } = new("--vcpus") { Description = "vCPUs per run (default 1)." };
        public Option<int?> Memory { get; } = new("--memory-mb") { Description = "Memory limit per run in MiB (default 512)." };
        public Option<string?> Webhook { get; } = new("--webhook") { Description = "Trigger on a webhook with this signature: hmac-sha256 (GitHub), slack-v0 (Slack), or none (anyone with the URL)." };
        public Option<string?> SecretEnv { get; } = new("--secret-env") { Description = "Name of an environment variable holding the webhook secret (kept off the command line)." };
        public Option<string?> Header { get; } = new("--header") { Description = "Header carrying the signature (default X-Hub-Signature-256, or X-Slack-Signature)." };
        public Option<string?> Cron { get; } = new("--cron") { Description = "Trigger on a schedule: 5 cron fields, or @hourly, @daily, @weekly, @monthly, @yearly." };
        public Option<string?> Timezone { get; } = new("--timezone") { Description = "IANA time zone of the schedule, such as Europe/Berlin (default UTC)." };
        public Option<string?> CatchUp { get; } = new("--catch-up") { Description = "Runs missed while Kennel was down: once (fire one, the default) or skip." };
        public Option<string?> Concurrency { get; } = new("--concurrency") { Description = "When a run is still live: allow (default), skip, or queue." };
        public Argument<string[]> Command { get; } = new("command") { Description = "The program and its arguments, after --.", Arity = ArgumentArity.ZeroOrMore };
        public NetworkOptions Network { get; } = new();

        public void AddTo(Command command)
        {
            Network.AddTo(command);
            foreach (var option in new Option[] { Description, Snapshot, Script, Env, Secret, Timeout, Vcpus, Memory, Webhook, SecretEnv, Header, Cron, Timezone, CatchUp, Concurrency })
            {
                command.Options.Add(option);
            }
            command.Arguments.Add(Command);
        }

        public DaemonWorkload? Workload(ParseResult parse)
        {
            var argv = parse.GetValue(Command) ?? [];
            var script = parse.GetValue(Script);
            var env = SessionCommands.Pairs(parse.GetValue(Env), "--env");
            var secrets = parse.GetValue(Secret) is { Length: > 0 } names ? names : null;
            if (argv.Length > 0 && script is not null)
            {
                throw new CliException("Give either --script '...' or a command after --, not both.", ExitCodes.Usage);
            }
            return argv.Length == 0 && script is null && env is null && secrets is null
                ? null
                : new DaemonWorkload { Script = script, Command = argv.Length > 0 ? argv : null, Env = env, Secrets = secrets };
        }

        public DaemonTriggerRequest? Trigger(ParseResult parse)
        {
            var webhook = parse.GetValue(Webhook);
            var cron = parse.GetValue(Cron);
            if (webhook is not null && cron is not null)
            {
                throw new CliException("Give either --webhook or --cron, not both.", ExitCodes.Usage);
            }
            string? secret = null;
            if (parse.GetValue(SecretEnv) is { } variable)
            {
                secret = Environment.GetEnvironmentVariable(variable)
                    ?? throw new CliException($"--secret-env names {variable}, which is not set.", ExitCodes.Usage);
            }
            if (webhook is not null)
            {
                return new DaemonTriggerRequest { Type = "webhook", Signature = webhook, Secret = secret, Header = parse.GetValue(Header) };
            }
            return cron is null
                ? null
                : new DaemonTriggerRequest { Type = "schedule", Cron = cron, Timezone = parse.GetValue(Timezone), CatchUp = parse.GetValue(CatchUp) };
        }

        public SessionResources? Resources(ParseResult parse) => parse.GetValue(Vcpus) is null && parse.GetValue(Memory) is null
            ? null
            : new SessionResources { Vcpus = parse.GetValue(Vcpus), MemoryMb = parse.GetValue(Memory) };

        public long? TimeoutMs(ParseResult parse) => parse.GetValue(Timeout) is { } t ? SessionCommands.Duration(t) : null;
    }

    private static Command Create()
    {
        var name = Name();
        var options = new DefinitionOptions();
        var paused = new Option<bool>("--paused") { Description = "Create it paused." };
        var json = CliOptions.Json();
        var create = new Command("create", "Create a daemon. Give --webhook or --cron, and --script or a command after --.") { name, paused, json };
        options.AddTo(create);
        create.SetAction(async (parse, cancellationToken) =>
        {
            var request = new CreateDaemonRequest
            {
                Name = parse.GetValue(name),
                Description = parse.GetValue(options.Description),
                Snapshot = parse.GetValue(options.Snapshot),
                Workload = options.Workload(parse) ?? throw new CliException("Give --script '...' or a command after --.", ExitCodes.Usage),
                Resources = options.Resources(parse),
                Network = options.Network.From(parse),
                TimeoutMs = options.TimeoutMs(parse),
                Trigger = options.Trigger(parse) ?? throw new CliException("Give --webhook SIGNATURE or --cron EXPRESSION.", ExitCodes.Usage),
                Concurrency = parse.GetValue(options.Concurrency),
                Status = parse.GetValue(paused) ? "paused" : null,
            };
            using var client = KennelClient.FromEnvironment();
            var created = await client.PostAsync("v1/daemons", KennelClient.Json(request, KennelJson.Default.CreateDaemonRequest), KennelJson.Default.Daemon, cancellationToken);
            return Print(created, parse.GetValue(json), "created");
        });
        return create;
    }

    private static Command Update()
    {
        var name = Name();
        var options = new DefinitionOptions();
        var json = CliOptions.Json();
        var update = new Command("update", "Change a daemon: only the options given change. A new --webhook or --cron replaces the trigger.") { name, json };
        options.AddTo(update);
        update.SetAction(async (parse, cancellationToken) =>
        {
            var request = new UpdateDaemonRequest
            {
                Description = parse.GetValue(options.Description),
                Snapshot = parse.GetValue(options.Snapshot),
                Workload = options.Workload(parse),
                Resources = options.Resources(parse),
                Network = options.Network.From(parse),
                TimeoutMs = options.TimeoutMs(parse),
                Trigger = options.Trigger(parse),
                Concurrency = parse.GetValue(options.Concurrency),
            };
            using var client = KennelClient.FromEnvironment();
            var updated = await client.PatchAsync($"v1/daemons/{Uri.EscapeDataString(parse.GetValue(name)!)}",
                KennelClient.Json(request, KennelJson.Default.UpdateDaemonRequest), KennelJson.Default.Daemon, cancellationToken);
            return Print(updated, parse.GetValue(json), "updated");
        });
        return update;
    }

    private static Command Delete()
    {
        var name = Name();
        var delete = new Command("delete", "Delete a daemon: its triggers stop; the sessions it ran stay.") { name };
        delete.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            await client.DeleteAsync($"v1/daemons/{Uri.EscapeDataString(parse.GetValue(name)!)}", cancellationToken);
            Console.Out.WriteLine($"{parse.GetValue(name)} deleted");
            return ExitCodes.Ok;
        });
        return delete;
    }

    private static Command SetStatus(string verb, string description)
    {
        var name = Name();
        var json = CliOptions.Json();
        var command = new Command(verb, description) { name, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var daemon = await client.PostAsync($"v1/daemons/{Uri.EscapeDataString(parse.GetValue(name)!)}/{verb}", null, KennelJson.Default.Daemon, cancellationToken);
            return Print(daemon, parse.GetValue(json), verb == "pause" ? "paused" : "resumed");
        });
        return command;
    }

    private static Command Trigger()
    {
        var name = Name();
        var payload = new Option<string?>("--payload") { Description = "The payload, as JSON; '@FILE' reads it from a file and '-' from stdin. Default {}." };
        var json = CliOptions.Json();
        var trigger = new Command("trigger", "Run a daemon now with a payload, as you (no webhook signature needed). Prints the session id.") { name, payload, json };
        trigger.SetAction(async (parse, cancellationToken) =>
        {
            var text = parse.GetValue(payload) switch
            {
                null => null,
                "-" => await Console.In.ReadToEndAsync(cancellationToken),
                ['@', .. var file] => await File.ReadAllTextAsync(file, cancellationToken),
                var inline => inline,
            };
            TriggerDaemonRequest request;
            try
            {
                request = new TriggerDaemonRequest { Payload = text is null ? null : System.Text.Json.JsonDocument.Parse(text).RootElement.Clone() };
            }
            catch (System.Text.Json.JsonException invalid)
            {
                throw new CliException($"--payload is not valid JSON: {invalid.Message}", ExitCodes.Usage);
            }
            using var client = KennelClient.FromEnvironment();
            var result = await client.PostAsync($"v1/daemons/{Uri.EscapeDataString(parse.GetValue(name)!)}/trigger",
                KennelClient.Json(request, KennelJson.Default.TriggerDaemonRequest), KennelJson.Default.DaemonTriggerResult, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(result, KennelJson.Default.DaemonTriggerResult);
            }
            else if (result.SessionId is { } id)
            {
                Console.Out.WriteLine(id);
                await Console.Error.WriteLineAsync($"{result.Outcome}; follow it with: kennel session wait {id}");
            }
            else
            {
                await Console.Error.WriteLineAsync($"skipped: {result.Reason}");
            }
            return ExitCodes.Ok;
        });
        return trigger;
    }

    private static int Print(Daemon daemon, bool json, string what)
    {
        if (json)
        {
            CliOptions.PrintJson(daemon, KennelJson.Default.Daemon);
        }
        else
        {
            Console.Out.WriteLine($"{daemon.Name} {what}: {Describe(daemon.Trigger)}, {daemon.Status}");
        }
        return ExitCodes.Ok;
    }

    private static string Describe(DaemonTrigger trigger) => trigger.Type == "webhook"
        ? $"webhook {trigger.Signature}{(trigger.Unauthenticated == true ? " (UNAUTHENTICATED)" : "")} POST {trigger.WebhookPath}"
        : $"schedule '{trigger.Cron}' {trigger.Timezone}";
}
