using System.CommandLine;
using System.Globalization;
using Kennel.Contracts;
using Kennel.Contracts.Quotas;

namespace Kennel.Cli;

/// <summary><c>kennel quota show|set</c>: a workspace's limits on running sessions, vCPUs and queued sessions.</summary>
public static class QuotaCommands
{
    public static Command Build()
    {
        var quota = new Command("quota", """
            Show or set a workspace's limits. Every workspace shares the workers fairly; these limits cap what one may hold.

              kennel quota show                 # this key's workspace
              kennel quota set team-b --max-running-sessions 8 --max-vcpus 16
            Defaults come from KENNEL_WORKSPACE_MAX_* on the server; setting needs an admin key of the 'default' workspace.
            """);
        quota.Subcommands.Add(Show());
        quota.Subcommands.Add(Set());
        return quota;
    }

    private static Command Show()
    {
        var workspace = new Argument<string?>("workspace") { Description = "The workspace (an installation admin may name any); this key's own if left out.", Arity = ArgumentArity.ZeroOrOne };
        var json = CliOptions.Json();
        var show = new Command("show", "Show a workspace's limits, which of them are set for it (the rest are the installation's defaults), and its use now.")
        {
            workspace, json,
        };
        show.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var path = parse.GetValue(workspace) is { } name ? $"v1/workspaces/{Uri.EscapeDataString(name)}/quota" : "v1/quota";
            Print(await client.GetAsync(path, KennelJson.Default.WorkspaceQuota, cancellationToken), parse.GetValue(json));
            return ExitCodes.Ok;
        });
        return show;
    }

    private static Command Set()
    {
        var workspace = new Argument<string>("workspace") { Description = "The workspace whose limits to set." };
        var running = Limit("--max-running-sessions", "Sessions it may have starting or running at once.");
        var vcpus = Limit("--max-vcpus", "vCPUs those sessions may hold together.");
        var queued = Limit("--max-queued-sessions", "Sessions it may have waiting in the queue; past it, creates get 429 queue_full.");
        var json = CliOptions.Json();
        var set = new Command("set",
            "Replace a workspace's limits: each option given sets one (0 is no limit), and each left out falls back to the installation default. " +
            "Needs an admin key of the 'default' workspace.")
        {
            workspace, running, vcpus, queued, json,
        };
        set.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var request = new SetQuotaRequest
            {
                MaxRunningSessions = parse.GetValue(running),
                MaxVcpus = parse.GetValue(vcpus),
                MaxQueuedSessions = parse.GetValue(queued),
            };
            var quota = await client.PutAsync($"v1/workspaces/{Uri.EscapeDataString(parse.GetValue(workspace)!)}/quota",
                KennelClient.Json(request, KennelJson.Default.SetQuotaRequest), KennelJson.Default.WorkspaceQuota, cancellationToken);
            Print(quota, parse.GetValue(json));
            return ExitCodes.Ok;
        });
        return set;
    }

    private static Option<int?> Limit(string name, string description) => new(name) { Description = description + " 0 is no limit." };

    private static void Print(WorkspaceQuota quota, bool json)
    {
        if (json)
        {
            CliOptions.PrintJson(quota, KennelJson.Default.WorkspaceQuota);
            return;
        }
        var table = new Table("LIMIT", "VALUE", "SOURCE", "IN USE");
        table.Add("running sessions", Value(quota.Limits.MaxRunningSessions), Source(quota, "maxRunningSessions"), Count(quota.Usage.RunningSessions));
        table.Add("vcpus", Value(quota.Limits.MaxVcpus), Source(quota, "maxVcpus"), Count(quota.Usage.Vcpus));
        table.Add("queued sessions", Value(quota.Limits.MaxQueuedSessions), Source(quota, "maxQueuedSessions"), Count(quota.Usage.QueuedSessions));
        Console.Out.WriteLine($"Workspace '{quota.Workspace}'");
        table.Write(Console.Out);
    }

    private static string Value(int? limit) => limit?.ToString(CultureInfo.InvariantCulture) ?? "none";

    private static string Source(WorkspaceQuota quota, string field) => quota.Overridden.Contains(field) ? "workspace" : "default";

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);
}
