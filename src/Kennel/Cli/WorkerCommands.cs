using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Workers;
using Kennel.ControlPlane.Hosting;
using Kennel.Worker;
using Microsoft.Extensions.Logging;

namespace Kennel.Cli;

/// <summary><c>kennel worker</c> runs a worker; <c>kennel worker token create</c> and <c>kennel worker list</c> manage the fleet.</summary>
public static class WorkerCommands
{
    public static Command Build()
    {
        var url = new Option<string?>("--url") { Description = "The control plane's URL, e.g. http://kennel.internal:4000." };
        var token = new Option<string?>("--token") { Description = "A one-time enrollment token from 'kennel worker token create'. Not needed once enrolled." };
        var tokenFile = new Option<string?>("--token-file")
        {
            Description = "A file holding the enrollment token, deleted once spent (add-server writes one, so the token is never on a command line).",
        };
        var name = new Option<string?>("--name") { Description = "Name shown in the fleet (default: the host name)." };
        var defaults = WorkerAgentOptions.DefaultCapacity();
        var vcpus = new Option<int?>("--vcpus") { Description = $"vCPUs to offer (default {defaults.Vcpus}: 4 per core)." };
        var memory = new Option<int?>("--memory-mb") { Description = $"Memory to offer in MiB (default {defaults.MemoryMb}: 90% of RAM)." };
        var slots = new Option<int?>("--slots") { Description = $"Most sessions at once (default {defaults.Slots})." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Where the worker keeps its credential and sandbox files (default KENNEL_DATA_DIR or ~/.kennel)." };
        var worker = new Command("worker", "Run a worker that claims sessions from a control plane and runs them in sandboxes.")
        {
            url, token, tokenFile, name, vcpus, memory, slots, dataDir,
        };
        worker.SetAction(async (parse, cancellationToken) =>
        {
            var dir = parse.GetValue(dataDir) ?? KennelSettings.DataDirFromEnvironment();
            var capacity = new WorkerCapacity(parse.GetValue(vcpus) ?? defaults.Vcpus, parse.GetValue(memory) ?? defaults.MemoryMb, parse.GetValue(slots) ?? defaults.Slots);
            var file = parse.GetValue(tokenFile);
            var given = parse.GetValue(token) ?? (file is not null && File.Exists(file) ? (await File.ReadAllTextAsync(file, cancellationToken)).Trim() : null);
            await RunWorkerAsync(dir, parse.GetValue(url), given, parse.GetValue(name) ?? Environment.MachineName, capacity, file, cancellationToken);
            return ExitCodes.Ok;
        });
        var tokens = new Command("token", "Enrollment tokens for new workers.");
        tokens.Subcommands.Add(CreateToken());
        worker.Subcommands.Add(tokens);
        worker.Subcommands.Add(List());
        return worker;
    }

    private static async Task RunWorkerAsync(string dataDir, string? url, string? token, string name, WorkerCapacity capacity, string? tokenFile,
        CancellationToken cancellationToken)
    {
        using var loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole(console => console.SingleLine = true));
        var settings = KennelSettings.FromEnvironment();
        await using var sandbox = DefaultSandbox.Create(dataDir, settings.SandboxUids, settings.SandboxSharedDirectory, loggers, settings.SandboxEgress);
        if (!sandbox.Capabilities.Available)
        {
            throw new CliException($"This machine cannot run sandboxes: {sandbox.Capabilities.Problem}");
        }
        // With a saved identity the token (already spent, or never needed) is not used again.
        var identity = await EnrollAsync(dataDir, url, File.Exists(Path.Combine(dataDir, "worker.json")) && tokenFile is not null ? null : token, name, capacity,
            cancellationToken);
        if (tokenFile is not null)
        {
            File.Delete(tokenFile);
        }
        using var http = ControlPlaneClient.CreateHttpClient(new Uri(identity.Url.TrimEnd('/') + "/"), identity.Credential);
        var options = new WorkerAgentOptions
        {
            Capacity = capacity,
            SkillDirectory = DefaultSandbox.SkillDirectory(dataDir, settings.SandboxSharedDirectory),
            SnapshotDirectory = DefaultSandbox.SnapshotDirectory(dataDir, settings.SandboxSharedDirectory),
            SnapshotCacheBytes = (long)settings.SnapshotCacheMb << 20,
        };
        var agent = new WorkerAgent(new ControlPlaneClient(http), sandbox, options, TimeProvider.System, loggers.CreateLogger<WorkerAgent>());
        Console.Out.WriteLine($"Worker {identity.WorkerId} ({name}) serving {identity.Url}");
        using var running = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var trim = IdleTrim.RunAsync(TimeProvider.System, running.Token);
        try
        {
            await agent.RunAsync(cancellationToken);
        }
        catch (ControlPlaneException rejected) when (rejected.IsPermanent)
        {
            throw new CliException($"The control plane refused this worker: {rejected.Message}. Enroll again with a new --token.");
        }
        finally
        {
            await running.CancelAsync();
            await trim;
        }
    }

    /// <summary>
    /// A token is spent once, for a credential that is kept (mode 0600) in the data dir, so a restarted worker comes back
    /// as the same worker without a new token.
    /// </summary>
    private static async Task<WorkerIdentity> EnrollAsync(string dataDir, string? url, string? token, string name, WorkerCapacity capacity, CancellationToken cancellationToken)
    {
        var file = Path.Combine(dataDir, "worker.json");
        if (token is null)
        {
            if (!File.Exists(file))
            {
                throw new CliException("This worker is not enrolled yet: pass --url and --token (from 'kennel worker token create').", ExitCodes.Usage);
            }
            var saved = JsonSerializer.Deserialize(await File.ReadAllTextAsync(file, cancellationToken), CliJson.Default.WorkerIdentity)
                ?? throw new CliException($"{file} is not a worker identity; delete it and enroll again.");
            return url is null || string.Equals(url.TrimEnd('/'), saved.Url.TrimEnd('/'), StringComparison.Ordinal)
                ? saved
                : throw new CliException($"This worker is enrolled with {saved.Url}; to move it, delete {file} and enroll with a new --token.", ExitCodes.Usage);
        }
        if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var baseUrl))
        {
            throw new CliException("--url is required with --token, e.g. --url http://kennel.internal:4000.", ExitCodes.Usage);
        }
        using var http = ControlPlaneClient.CreateHttpClient(new Uri(baseUrl.ToString().TrimEnd('/') + "/"), null);
        EnrollResponse enrolled;
        try
        {
            enrolled = await ControlPlaneClient.EnrollAsync(http, new EnrollRequest(token, name, capacity, null), cancellationToken);
        }
        catch (ControlPlaneException refused)
        {
            throw new CliException($"Enrollment failed: {refused.Message}");
        }
        catch (HttpRequestException unreachable)
        {
            throw new CliException($"Cannot reach the control plane at {url}: {unreachable.Message}");
        }
        var identity = new WorkerIdentity(url, enrolled.WorkerId, enrolled.Credential);
        Directory.CreateDirectory(dataDir);
        await using (var stream = SecretFile.Create(file))
        {
            await JsonSerializer.SerializeAsync(stream, identity, CliJson.Default.WorkerIdentity, cancellationToken);
        }
        return identity;
    }

    private static Command CreateToken()
    {
        var ttl = new Option<string?>("--ttl") { Description = "How long the token stays valid: 30m, 1h (default), up to 168h." };
        var json = CliOptions.Json();
        var create = new Command("create", "Print a one-time enrollment token for 'kennel worker --url URL --token TOKEN'.") { ttl, json };
        create.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var seconds = parse.GetValue(ttl) is { } t ? SessionCommands.Duration(t) / 1000 : (long?)null;
            var token = await client.PostAsync("v1/workers/tokens",
                KennelClient.Json(new CreateWorkerTokenRequest(seconds), KennelJson.Default.CreateWorkerTokenRequest), KennelJson.Default.WorkerToken, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(token, KennelJson.Default.WorkerToken);
                return ExitCodes.Ok;
            }
            Console.Out.WriteLine(token.Token);
            await Console.Error.WriteLineAsync($"Valid once, until {token.ExpiresAt:u}. On the worker machine: kennel worker --url {client.BaseUrl} --token <token>");
            return ExitCodes.Ok;
        });
        return create;
    }

    private static Command List()
    {
        var json = CliOptions.Json();
        var list = new Command("list", "List workers with their health and capacity.") { json };
        list.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var workers = await client.GetAsync("v1/workers", KennelJson.Default.IReadOnlyListWorker, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(workers, KennelJson.Default.IReadOnlyListWorker);
                return ExitCodes.Ok;
            }
            var table = new Table("ID", "NAME", "KIND", "HEALTH", "VCPUS", "MEMORY MB", "SLOTS", "LAST SEEN");
            foreach (var w in workers)
            {
                table.Add(w.Id, w.Name, w.Kind, w.Health, Used(w.Used.Vcpus, w.Capacity.Vcpus), Used(w.Used.MemoryMb, w.Capacity.MemoryMb),
                    Used(w.Used.Slots, w.Capacity.Slots), CliOptions.Ago(w.LastSeenAt));
            }
            table.Write(Console.Out);
            return ExitCodes.Ok;
        });
        return list;
    }

    private static string Used(int used, int total) => $"{used.ToString(CultureInfo.InvariantCulture)}/{total.ToString(CultureInfo.InvariantCulture)}";
}

public sealed record WorkerIdentity(string Url, string WorkerId, string Credential);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(WorkerIdentity))]
internal sealed partial class CliJson : System.Text.Json.Serialization.JsonSerializerContext;
