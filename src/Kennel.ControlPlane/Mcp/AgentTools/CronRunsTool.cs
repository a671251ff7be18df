using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
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
public static class CronRunsTool
{
    [McpServerTool(Name = "cron_runs", Title = "Cron run history", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(CronRunPage))]
    [RequiresScope(Scopes.Read)]
    [Description("The history of cron runs, newest first: of one job or all, filtered by status. Each run has its trigger (schedule, " +
        "catch_up or manual), start and end, status, error, the conversation and run (or sandbox session) it used, its tokens and cost, " +
        "and its delivery's status.")]
    public static async Task<CallToolResult> Run(
        CronService cron,
        ClaimsPrincipal user,
        [Description("Only this job's runs: " + CronToolText.JobDescription), MinLength(1), MaxLength(CronToolText.MaxJobLength)] string? job = null,
        [Description("Comma-separated statuses: queued, running, succeeded, failed, timed_out, budget_exceeded, cancelled, skipped."), MaxLength(200)]
        string? status = null,
        [Description("Runs per page."), Range(1, CronService.MaxListLimit)] int limit = CronService.DefaultListLimit,
        [Description("nextCursor of the previous page."), MaxLength(CronToolText.MaxJobLength)] string? cursor = null,
        CancellationToken cancellationToken = default)
    {
        var page = await cron.RunsAsync(Caller.From(user), job, status, limit, cursor, cancellationToken);
        var lines = page.Items.Select(CronToolText.RunLine).ToList();
        if (lines.Count == 0)
        {
            lines.Add("No cron runs.");
        }
        if (page.NextCursor is { } next)
        {
            lines.Add($"More: cursor {next}");
        }
        return ToolResults.Of(page, KennelJson.Default.CronRunPage, string.Join('\n', lines));
    }
}
