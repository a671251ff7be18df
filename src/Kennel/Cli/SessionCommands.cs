using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;

namespace Kennel.Cli;

/// <summary><c>kennel session run|list|get|cancel|wait</c>.</summary>
public static class SessionCommands
{
    public static Command Build()
    {
        var session = new Command("session", "Run workloads in sandboxes and inspect them.");
        session.Subcommands.Add(Run());
        session.Subcommands.Add(List());
        session.Subcommands.Add(Get());
        session.Subcommands.Add(Cancel());
        session.Subcommands.Add(Wait());
        return session;
    }

    private static Command Run()
    {
        var snapshot = new Option<string>("--snapshot") { Description = "Snapshot to boot from.", DefaultValueFactory = _ => "test-minimal" };
        var script = new Option<string?>("--script") { Description = "Shell script to run with /bin/sh -c, instead of a command after --." };
        var env = new Option<string[]>("--env", "-e")
        {
            Description = "Environment variable NAME=VALUE; repeatable. Anyone who can read the session sees it: pass credentials with --secret.",
            AllowMultipleArgumentsPerToken = false,
        };
        var secret = Secret("The workload sees the workspace's secret NAME (kennel secret set NAME) as the variable NAME; repeatable.");
        var timeout = new Option<string?>("--timeout") { Description = "Kill the workload after this long: 30s, 10m, 2h, or milliseconds. Default 10m." };
        var vcpus = new Option<int?>("--vcpus") { Description = "vCPUs to allocate (default 1)." };
        var memory = new Option<int?>("--memory-mb") { Description = "Memory limit in MiB (default 512)." };
        var metadata = new Option<string[]>("--metadata", "-m") { Description = "Metadata KEY=VALUE to attach; repeatable." };
        var network = new NetworkOptions();
        var detach = new Option<bool>("--detach", "-d") { Description = "Print the session id and return without waiting." };
        var json = CliOptions.Json();
        var command = new Argument<string[]>("command") { Description = "The program and its arguments, after --.", Arity = ArgumentArity.ZeroOrMore };
        var run = new Command("run", "Run a workload, stream its output live, and exit with its exit code (124 timed out, 130 cancelled, 125 Kennel failure).")
        {
            snapshot, script, env, secret, timeout, vcpus, memory, metadata, detach, json, command,
        };
        network.AddTo(run);
        run.SetAction(async (parse, cancellationToken) =>
        {
            var argv = parse.GetValue(command) ?? [];
            var scriptText = parse.GetValue(script);
            if ((argv.Length == 0) == (scriptText is null))
            {
                throw new CliException("Give either --script '...' or a command after --, e.g. kennel session run -- echo hello.", ExitCodes.Usage);
            }
            var request = new CreateSessionRequest
            {
                Snapshot = parse.GetValue(snapshot),
                Script = scriptText,
                Command = argv.Length > 0 ? argv : null,
                Env = Pairs(parse.GetValue(env), "--env"),
                Secrets = parse.GetValue(secret) is { Length: > 0 } names ? names : null,
                Metadata = Pairs(parse.GetValue(metadata), "--metadata"),
                TimeoutMs = parse.GetValue(timeout) is { } t ? Duration(t) : null,
                Resources = parse.GetValue(vcpus) is null && parse.GetValue(memory) is null
                    ? null
                    : new SessionResources { Vcpus = parse.GetValue(vcpus), MemoryMb = parse.GetValue(memory) },
                Network = network.From(parse),
            };
            using var client = KennelClient.FromEnvironment();
            var created = await client.PostAsync("v1/sessions", KennelClient.Json(request, KennelJson.Default.CreateSessionRequest),
                KennelJson.Default.Session, cancellationToken);
            if (parse.GetValue(detach))
            {
                if (parse.GetValue(json))
                {
                    CliOptions.PrintJson(created, KennelJson.Default.Session);
                }
                else
                {
                    Console.Out.WriteLine(created.Id);
                }
                return ExitCodes.Ok;
            }
            var final = await FollowAsync(client, created.Id, streamOutput: !parse.GetValue(json), cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(final, KennelJson.Default.Session);
            }
            return ExitCodeOf(final);
        });
        return run;
    }

    /// <summary>
    /// Streams output until the session ends. The first Ctrl+C cancels the session and keeps following, so the user sees
    /// how it ended. With --json the output is not streamed: stdout must hold the session's JSON alone, and it carries
    /// the output.
    /// </summary>
    private static async Task<Session> FollowAsync(KennelClient client, string id, bool streamOutput, CancellationToken interrupted)
    {
        var cancelSent = false;
        using var interrupt = interrupted.Register(() => cancelSent = true);
        while (true)
        {
            try
            {
                await foreach (var (name, data) in client.EventsAsync($"v1/sessions/{id}/stream", cancelSent ? CancellationToken.None : interrupted))
                {
                    if (name == "output" && streamOutput)
                    {
                        var output = JsonSerializer.Deserialize(data, KennelJson.Default.SessionOutputEvent)!;
                        var writer = output.Stream == "stderr" ? Console.Error : Console.Out;
                        await writer.WriteAsync(output.Data);
                        await writer.FlushAsync(CancellationToken.None);
                    }
                    else if (name == "session")
                    {
                        var final = JsonSerializer.Deserialize(data, KennelJson.Default.Session)!;
                        if (final.Error is { } error && final.Status != SessionStatus.Succeeded && error.Code != "nonzero_exit")
                        {
                            await Console.Error.WriteLineAsync($"kennel: session {final.Id} {final.Status.ToWire()}: {error.Message} [{error.Code}]");
                        }
                        return final;
                    }
                }
                // The stream ended without a final event (a restart of the control plane): follow again.
            }
            catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync($"kennel: cancelling session {id}...");
                try
                {
                    await client.PostAsync($"v1/sessions/{id}/cancel", null, KennelJson.Default.Session, CancellationToken.None);
                }
                catch (CliException)
                {
                    // It finished meanwhile; following it shows how.
                }
            }
            catch (Exception exception) when (exception is CliException { Transient: true } or IOException)
            {
                // The control plane is restarting; the session is durable, so pick the stream up again.
                await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
            }
        }
    }

    private static Command List()
    {
        var status = new Option<string?>("--status") { Description = "Only these statuses, comma-separated (pending, running, succeeded, failed, timed_out, cancelled)." };
        var limit = new Option<int?>("--limit") { Description = "At most this many (1-200, default 50)." };
        var cursor = new Option<string?>("--cursor") { Description = "Continue from the nextCursor of a previous page." };
        var json = CliOptions.Json();
        var list = new Command("list", "List sessions, newest first.") { status, limit, cursor, json };
        list.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var query = new List<string>();
            if (parse.GetValue(status) is { } s)
            {
                query.Add($"status={Uri.EscapeDataString(s)}");
            }
            if (parse.GetValue(limit) is { } l)
            {
                query.Add($"limit={l.ToString(CultureInfo.InvariantCulture)}");
            }
            if (parse.GetValue(cursor) is { } c)
            {
                query.Add($"cursor={Uri.EscapeDataString(c)}");
            }
            var page = await client.GetAsync($"v1/sessions?{string.Join('&', query)}", KennelJson.Default.SessionPage, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(page, KennelJson.Default.SessionPage);
                return ExitCodes.Ok;
            }
            var table = new Table("ID", "STATUS", "EXIT", "CREATED", "SNAPSHOT", "WORKLOAD");
            foreach (var item in page.Items)
            {
                table.Add(item.Id, item.Status.ToWire(), item.ExitCode?.ToString(CultureInfo.InvariantCulture), CliOptions.Ago(item.CreatedAt),
                    item.Snapshot, Workload(item));
            }
            table.Write(Console.Out);
            if (page.NextCursor is { } next)
            {
                Console.Out.WriteLine($"More: kennel session list --cursor {next}");
            }
            return ExitCodes.Ok;
        });
        return list;
    }

    private static Command Get()
    {
        var id = new Argument<string>("id") { Description = "The session id (ses_...)." };
        var json = CliOptions.Json();
        var get = new Command("get", "Show one session, with its output.") { id, json };
        get.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var session = await client.GetAsync($"v1/sessions/{Uri.EscapeDataString(parse.GetValue(id)!)}", KennelJson.Default.Session, cancellationToken);
            Show(session, parse.GetValue(json));
            return ExitCodes.Ok;
        });
        return get;
    }

    private static Command Cancel()
    {
        var id = new Argument<string>("id") { Description = "The session id (ses_...)." };
        var json = CliOptions.Json();
        var cancel = new Command("cancel", "Cancel a pending or running session; the workload is killed.") { id, json };
        cancel.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var session = await client.PostAsync($"v1/sessions/{Uri.EscapeDataString(parse.GetValue(id)!)}/cancel", null, KennelJson.Default.Session,
                cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(session, KennelJson.Default.Session);
            }
            else
            {
                Console.Out.WriteLine(session.Status.IsTerminal() ? $"{session.Id} {session.Status.ToWire()}" : $"{session.Id} cancelling");
            }
            return ExitCodes.Ok;
        });
        return cancel;
    }

    private static Command Wait()
    {
        var id = new Argument<string>("id") { Description = "The session id (ses_...)." };
        var timeout = new Option<string?>("--timeout") { Description = "Give up after this long (30s, 5m; at most 5m per request, default: wait until it ends)." };
        var json = CliOptions.Json();
        var wait = new Command("wait", "Wait for a session to end; exits with its exit code like 'session run'.") { id, timeout, json };
        wait.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var deadline = parse.GetValue(timeout) is { } t ? DateTimeOffset.UtcNow.AddMilliseconds(Duration(t)) : DateTimeOffset.MaxValue;
            var path = $"v1/sessions/{Uri.EscapeDataString(parse.GetValue(id)!)}/wait";
            Session session;
            do
            {
                var slice = (long)Math.Clamp((deadline - DateTimeOffset.UtcNow).TotalMilliseconds, 0, 60_000);
                session = await client.GetAsync($"{path}?timeoutMs={slice.ToString(CultureInfo.InvariantCulture)}", KennelJson.Default.Session, cancellationToken);
            }
            while (!session.Status.IsTerminal() && DateTimeOffset.UtcNow < deadline);
            Show(session, parse.GetValue(json));
            return session.Status.IsTerminal() ? ExitCodeOf(session) : ExitCodes.TimedOut;
        });
        return wait;
    }

    private static void Show(Session session, bool json)
    {
        if (json)
        {
            CliOptions.PrintJson(session, KennelJson.Default.Session);
            return;
        }
        var out_ = Console.Out;
        out_.WriteLine($"id:        {session.Id}");
        out_.WriteLine($"status:    {session.Status.ToWire()}{(session.Error is { } e ? $" ({e.Code}: {e.Message})" : "")}");
        out_.WriteLine($"exit code: {session.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "-"}");
        out_.WriteLine($"snapshot:  {session.Snapshot}");
        out_.WriteLine($"workload:  {Workload(session)}");
        out_.WriteLine($"created:   {session.CreatedAt:u}  started: {session.StartedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "-"}  ended: {session.EndedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "-"}");
        out_.WriteLine($"worker:    {session.WorkerId ?? "-"}   vCPU-s: {session.VcpuSeconds:0.###}   CPU-s: {session.CpuSeconds:0.###}");
        out_.WriteLine($"--- stdout{(session.Truncated ? " (truncated)" : "")}");
        out_.Write(session.Stdout);
        out_.WriteLine("--- stderr");
        out_.Write(session.Stderr);
    }

    private static int ExitCodeOf(Session session) => session.Status switch
    {
        SessionStatus.Succeeded => ExitCodes.Ok,
        SessionStatus.TimedOut => ExitCodes.TimedOut,
        SessionStatus.Cancelled => ExitCodes.Cancelled,
        _ => session.ExitCode is { } code and > 0 and < 256 ? code : ExitCodes.KennelFailure,
    };

    private static string Workload(Session session)
    {
        var text = session.Script ?? string.Join(' ', session.Command ?? []);
        text = text.ReplaceLineEndings(" ");
        return text.Length > 40 ? text[..39] + "…" : text;
    }

    /// <summary><c>--secret NAME</c>, repeatable: a workspace secret the workload sees as a variable of that name.</summary>
    internal static Option<string[]> Secret(string description) => new("--secret") { Description = description, AllowMultipleArgumentsPerToken = false };

    internal static Dictionary<string, string>? Pairs(string[]? values, string option)
    {
        if (values is not { Length: > 0 })
        {
            return null;
        }
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliException($"{option} takes NAME=VALUE, not '{value}'.", ExitCodes.Usage);
            }
            pairs[value[..equals]] = value[(equals + 1)..];
        }
        return pairs;
    }

    /// <summary>Parses 500ms, 30s, 10m, 2h, or a bare number of milliseconds.</summary>
    public static long Duration(string text)
    {
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 1L),
            _ when text.EndsWith('s') => (text[..^1], 1000L),
            _ when text.EndsWith('m') => (text[..^1], 60_000L),
            _ when text.EndsWith('h') => (text[..^1], 3_600_000L),
            _ => (text, 1L),
        };
        return long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value * scale
            : throw new CliException($"'{text}' is not a duration; use e.g. 500ms, 30s, 10m or 2h.", ExitCodes.Usage);
    }
}
