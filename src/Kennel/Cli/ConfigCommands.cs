using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Config;

namespace Kennel.Cli;

/// <summary>
/// <c>kennel config get|set|versions|rollback</c>: the workspace's config document, by path, with its hash for safe
/// read-modify-write and every accepted write kept as a version.
/// </summary>
public static class ConfigCommands
{
    private static readonly JsonSerializerOptions Indented = new(KennelJson.Default.Options) { WriteIndented = true };

    public static Command Build()
    {
        var config = new Command("config", """
            Read and change the workspace's settings: agents, model providers, models.

              kennel config get agents.main
              kennel config set agents.main.thinking low
              printf %s "$OPENAI_API_KEY" | kennel config set providers.openai.apiKey -
              kennel config versions
              kennel config rollback 3
            Paths are dotted; quote a key holding a dot: 'models["openai/gpt-4.1"].prices.input'.
            The schema: GET /v1/config/schema.
            """);
        config.Subcommands.Add(Get());
        config.Subcommands.Add(Set());
        config.Subcommands.Add(Versions());
        config.Subcommands.Add(Rollback());
        return config;
    }

    private static Command Get()
    {
        var path = new Argument<string?>("path") { Description = "Where to read; the whole document without one.", Arity = ArgumentArity.ZeroOrOne };
        var json = CliOptions.Json();
        var get = new Command("get", "Print the value at a path, and (on stderr) the document's version and hash for --base-hash. Needs mcp:read.") { path, json };
        get.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var query = parse.GetValue(path) is { } p ? $"?path={Uri.EscapeDataString(p)}" : "";
            var value = await client.GetAsync($"v1/config{query}", KennelJson.Default.ConfigValue, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(value, KennelJson.Default.ConfigValue);
                return ExitCodes.Ok;
            }
            Console.Out.WriteLine(JsonSerializer.Serialize(value.Value, Indented));
            await Console.Error.WriteLineAsync($"version {value.Version}, hash {value.Hash}");
            return ExitCodes.Ok;
        });
        return get;
    }

    private static Command Set()
    {
        var path = new Argument<string>("path") { Description = "Where to write, as agents.main.thinking." };
        var value = new Argument<string>("value")
        {
            Description = "JSON (a word that is not JSON is taken as a string; null removes the path), or - to read it from stdin, as for an API key.",
        };
        var baseHash = BaseHash();
        var json = CliOptions.Json();
        var set = new Command("set", "Set the value at a path, as a new version. Needs mcp:write.") { path, value, baseHash, json };
        set.SetAction(async (parse, cancellationToken) =>
        {
            var text = parse.GetValue(value)!;
            if (text == "-")
            {
                text = (await Console.In.ReadToEndAsync(cancellationToken)).TrimEnd('\r', '\n');
            }
            var request = new SetConfigRequest { Path = parse.GetValue(path), Value = AsJson(text), BaseHash = parse.GetValue(baseHash) };
            using var client = KennelClient.FromEnvironment();
            var written = await client.PatchAsync("v1/config", KennelClient.Json(request, KennelJson.Default.SetConfigRequest),
                KennelJson.Default.ConfigWrite, cancellationToken);
            Print(written, parse.GetValue(json));
            return ExitCodes.Ok;
        });
        return set;
    }

    private static Command Versions()
    {
        var json = CliOptions.Json();
        var versions = new Command("versions", "List the accepted writes, newest first: who, when, what changed. Needs mcp:read.") { json };
        versions.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var list = await client.GetAsync("v1/config/versions?limit=100", KennelJson.Default.ConfigVersionList, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(list, KennelJson.Default.ConfigVersionList);
                return ExitCodes.Ok;
            }
            var table = new Table("VERSION", "AUTHOR", "WHEN", "CHANGED");
            foreach (var version in list.Items)
            {
                table.Add(version.Version.ToString(CultureInfo.InvariantCulture), version.Author, CliOptions.Ago(version.CreatedAt),
                    string.Join(", ", version.ChangedPaths));
            }
            table.Write(Console.Out);
            return ExitCodes.Ok;
        });
        return versions;
    }

    private static Command Rollback()
    {
        var version = new Argument<long>("version") { Description = "The version whose document becomes current again (kennel config versions)." };
        var baseHash = BaseHash();
        var json = CliOptions.Json();
        var rollback = new Command("rollback", "Restore an earlier version's document, as a new version. Needs mcp:write.") { version, baseHash, json };
        rollback.SetAction(async (parse, cancellationToken) =>
        {
            var request = new RollbackConfigRequest { Version = parse.GetValue(version), BaseHash = parse.GetValue(baseHash) };
            using var client = KennelClient.FromEnvironment();
            var written = await client.PostAsync("v1/config/rollback", KennelClient.Json(request, KennelJson.Default.RollbackConfigRequest),
                KennelJson.Default.ConfigWrite, cancellationToken);
            Print(written, parse.GetValue(json));
            return ExitCodes.Ok;
        });
        return rollback;
    }

    private static Option<string?> BaseHash() =>
        new("--base-hash") { Description = "Refuse the write (config_conflict) unless the document's hash is still this one, as kennel config get printed it." };

    /// <summary>The value as JSON when it is JSON, else as a JSON string, so <c>set agents.main.thinking low</c> needs no quotes.</summary>
    private static JsonElement AsJson(string text)
    {
        try
        {
            using var parsed = JsonDocument.Parse(text);
            return parsed.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(text, KennelJson.Default.String);
        }
    }

    private static void Print(ConfigWrite written, bool json)
    {
        if (json)
        {
            CliOptions.PrintJson(written, KennelJson.Default.ConfigWrite);
            return;
        }
        var changed = written.ChangedPaths.Count == 0 ? "nothing changed" : $"changed {string.Join(", ", written.ChangedPaths)}";
        Console.Out.WriteLine($"version {written.Version} ({changed}), hash {written.Hash}");
    }
}
