using System.CommandLine;
using System.Globalization;
using Kennel.Contracts;
using Kennel.Contracts.Snapshots;

namespace Kennel.Cli;

/// <summary><c>kennel snapshot build|list|log|tag|rollback|delete</c>: the environments sessions boot, built from recipes.</summary>
public static class SnapshotCommands
{
    public static Command Build()
    {
        var snapshot = new Command("snapshot", """
            Build the environments sessions boot, from recipes, and name them with tags.

              kennel snapshot build -f python.yaml --name python --tag 3.12
              kennel session run --snapshot python:3.12 -- python3 -c 'import sys; print(sys.version)'
              kennel snapshot rollback python:3.12
            A recipe's format is in docs/snapshots.md.
            """);
        snapshot.Subcommands.Add(BuildCommand());
        snapshot.Subcommands.Add(List());
        snapshot.Subcommands.Add(Log());
        snapshot.Subcommands.Add(Tag());
        snapshot.Subcommands.Add(Rollback());
        snapshot.Subcommands.Add(Delete());
        return snapshot;
    }

    private static Command BuildCommand()
    {
        var file = new Option<FileInfo>("--file", "-f") { Description = "The recipe, YAML or JSON.", Required = true };
        var name = new Option<string>("--name") { Description = "The name to file the snapshot under (python).", Required = true };
        var tags = new Option<string[]>("--tag") { Description = "A tag to point at it once it is ready (repeatable; default latest).", AllowMultipleArgumentsPerToken = false };
        var detach = new Option<bool>("--detach") { Description = "Print the build's id and return at once instead of following its log." };
        var json = CliOptions.Json();
        var build = new Command("build", "Build a snapshot from a recipe, following its log live (each step says whether it ran or came from the cache). " +
            "Exits 0 once it is ready, 1 when it failed. Needs mcp:write.") { file, name, tags, detach, json };
        build.SetAction(async (parse, cancellationToken) =>
        {
            var recipe = await File.ReadAllTextAsync(parse.GetValue(file)!.FullName, cancellationToken);
            using var client = KennelClient.FromEnvironment();
            var request = new BuildSnapshotRequest { Name = parse.GetValue(name), Tags = parse.GetValue(tags), Recipe = recipe };
            var started = await client.PostAsync("v1/snapshots", KennelClient.Json(request, KennelJson.Default.BuildSnapshotRequest),
                KennelJson.Default.SnapshotView, cancellationToken);
            if (parse.GetValue(detach))
            {
                Print(started, parse.GetValue(json));
                return ExitCodes.Ok;
            }
            await Console.Error.WriteLineAsync($"Building {started.Id} ({started.Name}, base {started.Base})");
            await client.CopyTextAsync($"v1/snapshots/{started.Id}/log?follow=true", parse.GetValue(json) ? Console.Error : Console.Out, cancellationToken);
            var done = await client.GetAsync($"v1/snapshots/{started.Id}", KennelJson.Default.SnapshotView, cancellationToken);
            Print(done with { Log = null }, parse.GetValue(json));
            return done.Status == "ready" ? ExitCodes.Ok : ExitCodes.Error;
        });
        return build;
    }

    private static Command List()
    {
        var json = CliOptions.Json();
        var list = new Command("list", "List the snapshots sessions can boot: the built-in ones, then the workspace's builds, newest first.") { json };
        list.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var snapshots = await client.GetAsync("v1/snapshots", KennelJson.Default.SnapshotViewList, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(snapshots, KennelJson.Default.SnapshotViewList);
                return ExitCodes.Ok;
            }
            var table = new Table("NAME", "TAGS", "ID", "STATUS", "DIGEST", "SIZE", "BASE", "CREATED", "WORKERS");
            foreach (var item in snapshots.Items)
            {
                table.Add(item.Name, string.Join(',', item.Tags), item.Id, item.Error is { } error ? $"{item.Status} ({error.Code})" : item.Status,
                    item.Digest is { } digest ? digest[..19] : "-", item.Size is { } size ? Megabytes(size) : "-", item.Base,
                    item.BuiltIn ? "built in" : CliOptions.Ago(item.CreatedAt), item.Workers.ToString(CultureInfo.InvariantCulture));
            }
            table.Write(Console.Out);
            return ExitCodes.Ok;
        });
        return list;
    }

    private static Command Log()
    {
        var id = Id();
        var follow = new Option<bool>("--follow", "-F") { Description = "Keep printing while the build runs." };
        var log = new Command("log", "Print a build's log.") { id, follow };
        log.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            await client.CopyTextAsync($"v1/snapshots/{Uri.EscapeDataString(parse.GetValue(id)!)}/log{(parse.GetValue(follow) ? "?follow=true" : "")}",
                Console.Out, cancellationToken);
            return ExitCodes.Ok;
        });
        return log;
    }

    private static Command Tag()
    {
        var target = NameTag();
        var snapshot = new Argument<string>("snapshot") { Description = "The snapshot to point at: its id (snp_…) or name@sha256:…." };
        var json = CliOptions.Json();
        var tag = new Command("tag", "Point NAME:TAG at a ready snapshot of that name. The move is recorded; rollback undoes it. Needs mcp:write.")
        {
            target, snapshot, json,
        };
        tag.SetAction(async (parse, cancellationToken) =>
        {
            var (name, tagName) = Split(parse.GetValue(target)!);
            using var client = KennelClient.FromEnvironment();
            var history = await client.PutAsync($"v1/snapshots/tags/{name}/{tagName}",
                KennelClient.Json(new TagSnapshotRequest { Snapshot = parse.GetValue(snapshot) }, KennelJson.Default.TagSnapshotRequest),
                KennelJson.Default.SnapshotTagHistory, cancellationToken);
            PrintHistory(history, parse.GetValue(json));
            return ExitCodes.Ok;
        });
        return tag;
    }

    private static Command Rollback()
    {
        var target = NameTag();
        var json = CliOptions.Json();
        var rollback = new Command("rollback", "Move NAME:TAG back to where it pointed before its latest move. Needs mcp:write.") { target, json };
        rollback.SetAction(async (parse, cancellationToken) =>
        {
            var (name, tagName) = Split(parse.GetValue(target)!);
            using var client = KennelClient.FromEnvironment();
            var history = await client.PostAsync($"v1/snapshots/tags/{name}/{tagName}/rollback", null, KennelJson.Default.SnapshotTagHistory, cancellationToken);
            PrintHistory(history, parse.GetValue(json));
            return ExitCodes.Ok;
        });
        return rollback;
    }

    private static Command Delete()
    {
        var id = Id();
        var delete = new Command("delete", "Delete a snapshot and its tags. Refused while a daemon or a live session uses it. Needs mcp:write.") { id };
        delete.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            await client.DeleteAsync($"v1/snapshots/{Uri.EscapeDataString(parse.GetValue(id)!)}", cancellationToken);
            Console.Out.WriteLine($"{parse.GetValue(id)} deleted");
            return ExitCodes.Ok;
        });
        return delete;
    }

    private static void Print(SnapshotView view, bool json)
    {
        if (json)
        {
            CliOptions.PrintJson(view, KennelJson.Default.SnapshotView);
            return;
        }
        Console.Out.WriteLine($"{view.Id} {view.Name}:{string.Join(',', view.Tags)} {view.Status}{(view.Digest is { } digest ? " " + digest : "")}" +
            $"{(view.Error is { } error ? $" {error.Code}: {error.Message}" : "")}");
    }

    private static void PrintHistory(SnapshotTagHistory history, bool json)
    {
        if (json)
        {
            CliOptions.PrintJson(history, KennelJson.Default.SnapshotTagHistory);
            return;
        }
        Console.Out.WriteLine($"{history.Name}:{history.Tag} -> {history.SnapshotId}");
    }

    private static (string Name, string Tag) Split(string target)
    {
        var colon = target.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && colon < target.Length - 1
            ? (Uri.EscapeDataString(target[..colon]), Uri.EscapeDataString(target[(colon + 1)..]))
            : throw new CliException($"'{target}' is not NAME:TAG.", ExitCodes.Usage);
    }

    private static string Megabytes(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";

    private static Argument<string> Id() => new("id") { Description = "The snapshot's id (snp_…)." };

    private static Argument<string> NameTag() => new("name:tag") { Description = "The tag, as NAME:TAG (python:3.12)." };
}
