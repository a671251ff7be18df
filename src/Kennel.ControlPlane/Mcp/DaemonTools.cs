using System.ComponentModel;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Cost;
using Kennel.Contracts.Daemons;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Cost;
using Kennel.ControlPlane.Daemons;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Sessions;
using Kennel.Mcp;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp;

/// <summary>
/// The daemon and cost tools of <c>/mcp</c>, with seed 000's names. Each is one call of <see cref="DaemonService"/> or
/// <see cref="CostService"/>, which REST and the CLI use too. A daemon is named by <c>name</c>, unique in the workspace.
/// </summary>
public static class DaemonTools
{
    private const string NameDescription = "The daemon's name, as create-daemon was given it and list-daemons shows it.";

    [McpServerTool(Name = "list-daemons", Title = "List daemons", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(DaemonList))]
    [RequiresScope(Scopes.Read)]
    [Description("Lists this workspace's daemons (agents that run a sandbox session when a webhook arrives or on a cron schedule) with " +
        "their status (active or paused), trigger (webhook with its signature scheme and URL path, or schedule with cron, time zone and " +
        "nextRunAt) and concurrency policy. Returns {items}. Secrets are never shown, only secretSet.")]
    public static async Task<CallToolResult> ListDaemons(DaemonService daemons, ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        var list = await daemons.ListAsync(Caller.From(user), cancellationToken);
        return ToolResults.Of(list, KennelJson.Default.DaemonList, list.Items.Count == 0
            ? "No daemons in this workspace. create-daemon makes one."
            : string.Join("\n", list.Items.Select(Summary)));
    }

    [McpServerTool(Name = "get-daemon", Title = "Get a daemon", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(Daemon))]
    [RequiresScope(Scopes.Read)]
    [Description("Returns one daemon's full definition with its newest sessions (recentSessions: id, status, trigger, exit code) and the " +
        "totals of everything it ran (sessions, succeeded, failed, vcpuSeconds, cpuSeconds). Use get-session with a session id for its output.")]
    public static async Task<CallToolResult> GetDaemon(
        DaemonService daemons, ClaimsPrincipal user, [Description(NameDescription)] string name, CancellationToken cancellationToken = default)
    {
        var daemon = await daemons.GetAsync(Caller.From(user), Required(name), cancellationToken);
        return ToolResults.Of(daemon, KennelJson.Default.Daemon, Details(daemon));
    }

    [McpServerTool(Name = "create-daemon", Title = "Create a daemon", ReadOnly = false, Destructive = false, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(Daemon))]
    [RequiresScope(Scopes.Write)]
    [Description("Creates a daemon: a workload that runs in a fresh sandbox session each time its trigger fires. A webhook trigger gives a " +
        "public URL (trigger.webhookPath) that checks a GitHub (hmac-sha256) or Slack (slack-v0) signature, or none when chosen explicitly. " +
        "A schedule trigger takes a 5-field cron expression or @hourly/@daily/@weekly/@monthly/@yearly, in an IANA time zone. " +
        "Each run sees its trigger's payload in the file named by $KENNEL_TRIGGER_PAYLOAD, and $KENNEL_TRIGGER_TYPE says webhook, schedule or manual.")]
    public static async Task<CallToolResult> CreateDaemon(
        DaemonService daemons,
        ClaimsPrincipal user,
        [Description("Unique in the workspace: 1-63 characters of a-z, 0-9 and '-'.")] string name,
        [Description("What to run: {script} (run by /bin/sh -c) or {command} (an argv array), with optional env (variable names of letters, digits and '_'; " +
            "readable by anyone who can read the daemon) and secrets (names of this workspace's secrets, seen by each run as variables of the same name).")]
        DaemonWorkload workload,
        [Description("{type: \"webhook\", signature: \"hmac-sha256\" | \"slack-v0\" | \"none\", secret (8-256 characters; not for none), header (optional)} " +
            "or {type: \"schedule\", cron, timezone (IANA, default UTC), catchUp: \"once\" (default: one run for runs missed while down) | \"skip\"}.")]
        DaemonTriggerRequest trigger,
        [Description("What the daemon is for, up to 1024 characters.")] string? description = null,
        [Description("The environment image each run boots; list-snapshots shows the choices. Default test-minimal.")] string? snapshot = null,
        [Description("vcpus (1-64, default 1) and memoryMb (16-262144, default 512) for each run.")] SessionResources? resources = null,
        [Description(FleetTools.NetworkDescription)] SessionNetwork? network = null,
        [Description("Each run's wall-clock limit in milliseconds (1000-86400000, default 600000).")] long? timeoutMs = null,
        [Description("When a trigger arrives while a run is live: allow (run both; the default), skip (drop the new one) or queue (run it after).")]
        string? concurrency = null,
        [Description("active (the default) or paused (its triggers are refused and its schedule does not fire).")] string? status = null,
        CancellationToken cancellationToken = default)
    {
        var daemon = await daemons.CreateAsync(Caller.From(user), new CreateDaemonRequest
        {
            Name = name,
            Description = description,
            Snapshot = snapshot,
            Workload = workload,
            Resources = resources,
            Network = network,
            TimeoutMs = timeoutMs,
            Trigger = trigger,
            Concurrency = concurrency,
            Status = status,
        }, cancellationToken);
        return ToolResults.Of(daemon, KennelJson.Default.Daemon, "Created. " + Details(daemon));
    }

    [McpServerTool(Name = "update-daemon", Title = "Update a daemon", ReadOnly = false, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(Daemon))]
    [RequiresScope(Scopes.Write)]
    [Description("Changes a daemon: only the fields given change. status paused stops its triggers (webhooks are refused, the schedule " +
        "stops) and active resumes them. A new trigger replaces the old one whole; a webhook keeps its secret when none is given and the " +
        "signature scheme stays the same.")]
    public static async Task<CallToolResult> UpdateDaemon(
        DaemonService daemons,
        ClaimsPrincipal user,
        [Description(NameDescription)] string name,
        [Description("New description.")] string? description = null,
        [Description("New snapshot.")] string? snapshot = null,
        [Description("New workload: {script} or {command}, with optional env and secrets; replaces the old one whole.")] DaemonWorkload? workload = null,
        [Description("New vcpus and/or memoryMb.")] SessionResources? resources = null,
        [Description("New timeout in milliseconds.")] long? timeoutMs = null,
        [Description("New trigger, as create-daemon takes it.")] DaemonTriggerRequest? trigger = null,
        [Description("allow, skip or queue.")] string? concurrency = null,
        [Description("active or paused.")] string? status = null,
        CancellationToken cancellationToken = default)
    {
        var daemon = await daemons.UpdateAsync(Caller.From(user), Required(name), new UpdateDaemonRequest
        {
            Description = description,
            Snapshot = snapshot,
            Workload = workload,
            Resources = resources,
            TimeoutMs = timeoutMs,
            Trigger = trigger,
            Concurrency = concurrency,
            Status = status,
        }, cancellationToken);
        return ToolResults.Of(daemon, KennelJson.Default.Daemon, "Updated. " + Details(daemon));
    }

    [McpServerTool(Name = "delete-daemon", Title = "Delete a daemon", ReadOnly = false, Destructive = true, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(DeletedDaemon))]
    [RequiresScope(Scopes.Write)]
    [Description("Stops and removes a daemon: its webhook URL refuses every request (401, as any URL with no daemon does) and its " +
        "schedule never fires again. The sessions it already ran stay, still naming it, and count in cost-summary.")]
    public static async Task<CallToolResult> DeleteDaemon(
        DaemonService daemons, ClaimsPrincipal user, [Description(NameDescription)] string name, CancellationToken cancellationToken = default)
    {
        await daemons.DeleteAsync(Caller.From(user), Required(name), cancellationToken);
        return ToolResults.Of(new DeletedDaemon(name, true), DaemonToolJson.Default.DeletedDaemon, $"Deleted daemon {name}; its past sessions remain.");
    }

    [McpServerTool(Name = "trigger-webhook", Title = "Trigger a daemon", ReadOnly = false, Destructive = false, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(DaemonTriggerResult))]
    [RequiresScope(Scopes.Write)]
    [Description("Runs a daemon now, as you, with a payload: whatever its trigger type, no signature is needed. The run sees the payload " +
        "as JSON in the file $KENNEL_TRIGGER_PAYLOAD, and $KENNEL_TRIGGER_TYPE is manual. Returns {outcome: started | queued | skipped, " +
        "sessionId}; wait-for-session with the sessionId gives the run's output. skipped means the daemon's concurrency is skip and a run is live.")]
    public static async Task<CallToolResult> TriggerWebhook(
        DaemonService daemons,
        ClaimsPrincipal user,
        [Description(NameDescription)] string name,
        [Description("The payload, any JSON value (such as a GitHub event object). A string that holds JSON is parsed as that JSON. Omit for {}.")]
        JsonElement? payload = null,
        CancellationToken cancellationToken = default)
    {
        var result = await daemons.TriggerAsync(Caller.From(user), Required(name), Unwrap(payload), cancellationToken);
        var text = result.SessionId is { } id
            ? $"Daemon {result.Daemon}: {result.Outcome}, session {id}. wait-for-session {id} gives its output."
            : $"Daemon {result.Daemon}: skipped. {result.Reason}";
        return ToolResults.Of(result, KennelJson.Default.DaemonTriggerResult, text);
    }

    [McpServerTool(Name = "cost-summary", Title = "Cost summary", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(CostSummary))]
    [RequiresScope(Scopes.Read)]
    [Description("Sums this workspace's usage from its stored sessions: vcpuSeconds (vCPUs allocated × wall time) and cpuSeconds (CPU time " +
        "measured), with the session count, grouped by daemon (sessions no daemon started group under daemon null) or by UTC day. " +
        "Covers sessions created in [from, to); the default is the last 30 days.")]
    public static async Task<CallToolResult> CostSummary(
        CostService cost,
        ClaimsPrincipal user,
        [Description("Start, inclusive: a date (2026-11-01, midnight UTC) or an RFC 3339 time. Default: 30 days before to.")] string? from = null,
        [Description("End, exclusive: a date or an RFC 3339 time. Default: now.")] string? to = null,
        [Description("daemon (the default) or day.")] string groupBy = CostService.ByDaemon,
        CancellationToken cancellationToken = default)
    {
        var summary = await cost.SummarizeAsync(Caller.From(user), from, to, groupBy, cancellationToken);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"{summary.Total.Sessions} sessions, {summary.Total.VcpuSeconds} vCPU-s, {summary.Total.CpuSeconds} CPU-s from {summary.From:u} to {summary.To:u}");
        foreach (var group in summary.Groups)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"\n{group.Day ?? group.Daemon ?? "(no daemon)"}: {group.Sessions} sessions, {group.VcpuSeconds} vCPU-s, {group.CpuSeconds} CPU-s");
        }
        return ToolResults.Of(summary, KennelJson.Default.CostSummary, text.ToString());
    }

    /// <summary>Seed 000's client sent the payload as a string of JSON; such a string is read as the JSON it holds.</summary>
    private static JsonElement? Unwrap(JsonElement? payload)
    {
        if (payload is not { ValueKind: JsonValueKind.String } text)
        {
            return payload is { ValueKind: JsonValueKind.Undefined or JsonValueKind.Null } ? null : payload;
        }
        try
        {
            using var parsed = JsonDocument.Parse(text.GetString()!);
            return parsed.RootElement.Clone();
        }
        catch (JsonException)
        {
            return payload; // plain text: the payload is that JSON string
        }
    }

    private static string Required(string? name) =>
        string.IsNullOrWhiteSpace(name) ? throw ApiProblem.Invalid("name", "name is required: the daemon's name, as list-daemons shows it.") : name;

    private static string Summary(Daemon daemon) => daemon.Trigger.Type == DaemonValues.Webhook
        ? $"{daemon.Name}: {daemon.Status}, webhook ({daemon.Trigger.Signature}{(daemon.Trigger.Unauthenticated == true ? ", UNAUTHENTICATED" : "")}) at {daemon.Trigger.WebhookPath}, concurrency {daemon.Concurrency}"
        : $"{daemon.Name}: {daemon.Status}, schedule '{daemon.Trigger.Cron}' {daemon.Trigger.Timezone}, next run {daemon.Trigger.NextRunAt?.ToString("u", CultureInfo.InvariantCulture) ?? "none (paused)"}, concurrency {daemon.Concurrency}";

    private static string Details(Daemon daemon)
    {
        var text = new StringBuilder(Summary(daemon));
        if (daemon.Description.Length > 0)
        {
            text.Append('\n').Append(daemon.Description);
        }
        text.Append(CultureInfo.InvariantCulture, $"\nruns {(daemon.Workload.Script is { } script ? $"script: {script}" : $"command: {string.Join(' ', daemon.Workload.Command ?? [])}")}");
        if (daemon.Totals is { } totals)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"\n{totals.Sessions} sessions ({totals.Succeeded} succeeded, {totals.Failed} failed), {totals.VcpuSeconds} vCPU-s, {totals.CpuSeconds} CPU-s");
        }
        foreach (var session in daemon.RecentSessions ?? [])
        {
            text.Append(CultureInfo.InvariantCulture, $"\n{session.Id} {session.Trigger} {session.Status.ToWire()} {session.CreatedAt:u}");
        }
        return text.ToString();
    }
}

public sealed record DeletedDaemon(string Name, bool Deleted);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DeletedDaemon))]
internal sealed partial class DaemonToolJson : JsonSerializerContext;
