using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Cron;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Cron;
using Kennel.Mcp;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp.AgentTools;

[AgentTool]
public static class CronAddTool
{
    [McpServerTool(Name = "cron_add", Title = "Add a cron job", ReadOnly = false, Destructive = false, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(CreatedCronJob))]
    [RequiresScope(Scopes.Write)]
    [Description("Creates a scheduled job: a cron expression in a time zone, one time (at), or a fixed interval (every); an agent turn (a " +
        "message to the agent, in a fresh conversation each run unless one is named) or a sandbox workload; and where the result goes " +
        "(none, a webhook signed with a secret shown once, or a chat of a channel). Answers with the job and its next three run times. Each due run fires " +
        "exactly once; a run missed while Kennel was down fires once when it comes back, as a catch-up.")]
    public static async Task<CallToolResult> Run(
        CronService cron,
        ClaimsPrincipal user,
        [Description("Unique in the workspace: 1-63 characters of a-z, 0-9, '-' and '_'."), MinLength(1), MaxLength(CronValues.MaxNameLength)] string name,
        [Description("When it runs: {kind: \"cron\", expr: \"0 8 * * 1-5\", tz: \"Europe/Berlin\"} (5 fields, tz default UTC), " +
            "{kind: \"at\", at: \"2026-12-24T15:00:00Z\"} (once; UTC when no offset) or {kind: \"every\", every: \"30m\"} (at least 1m; or everyMs), " +
            "counted from now.")]
        CronSchedule schedule,
        [Description("What it does: {kind: \"agentTurn\", message, conversation?} (conversation: a session key such as main to run in; " +
            "absent, each run gets a fresh conversation with nothing inherited), or {kind: \"workload\", script or command, snapshot?, env?, " +
            "secrets?, resources?} (a sandbox session, as a daemon's).")]
        CronPayload payload,
        [Description("The agent that answers an agentTurn (agents_list shows them)."), MinLength(1), MaxLength(64)] string? agent = null,
        [Description("What the job is for."), MaxLength(CronValues.MaxDescriptionLength)] string? description = null,
        [Description("{mode: \"none\"} (default), {mode: \"webhook\", url}: each run's result is POSTed to url, signed (Standard Webhooks, " +
            "HMAC-SHA256) with a secret this call returns once, or {mode: \"channel\", channel, chat, thread?}: the answer is sent to that chat " +
            "of one of the workspace's channels (channels_status lists them).")]
        CronDelivery? delivery = null,
        [Description("{timeoutSeconds?: 1-86400, default 600; tokenBudget?: the most tokens an agent turn may use}. A run past either is " +
            "stopped and recorded as timed_out or budget_exceeded, and never retried behind your back.")]
        CronLimits? limits = null,
        [Description("A run that falls due while the last is going: skip (default, recorded as skipped) or queue (waits its turn)."),
            AllowedValues(CronValues.Skip, CronValues.Queue)] string? overlap = null,
        [Description("Whether it runs on schedule; default true.")] bool? enabled = null,
        [Description("For an at job: remove it after it runs, instead of disabling it.")] bool? deleteAfterRun = null,
        CancellationToken cancellationToken = default)
    {
        var created = await cron.AddAsync(Caller.From(user), new CreateCronJobRequest
        {
            Name = name,
            Description = description,
            Agent = agent,
            Enabled = enabled,
            Schedule = schedule,
            Payload = payload,
            Delivery = delivery,
            Limits = limits,
            Overlap = overlap,
            DeleteAfterRun = deleteAfterRun,
        }, cancellationToken);
        var text = $"Added {CronToolText.JobLine(created.Job)}.\nNext runs: " +
            (created.NextRuns.Count == 0 ? "none" : string.Join(", ", created.NextRuns.Select(t => t.ToString("u", CultureInfo.InvariantCulture)))) +
            (created.WebhookSecret is { } secret ? $"\nWebhook signing secret (shown once, keep it): {secret}" : "");
        return ToolResults.Of(created, KennelJson.Default.CreatedCronJob, text);
    }
}
