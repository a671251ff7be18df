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
public static class CronListTool
{
    [McpServerTool(Name = "cron_list", Title = "List cron jobs", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(CronJobPage))]
    [RequiresScope(Scopes.Read)]
    [Description("Lists this workspace's scheduled jobs by name, with each one's schedule, next run, last run and status, consecutive " +
        "errors, and back-off (a job that keeps failing waits longer before its next run, with the reason shown).")]
    public static async Task<CallToolResult> Run(
        CronService cron,
        ClaimsPrincipal user,
        [Description("all (default), enabled or disabled."), AllowedValues("all", "enabled", "disabled")] string? enabled = null,
        [Description("Jobs per page."), Range(1, CronService.MaxListLimit)] int limit = CronService.DefaultListLimit,
        [Description("nextCursor of the previous page."), MaxLength(CronToolText.MaxJobLength)] string? cursor = null,
        CancellationToken cancellationToken = default)
    {
        var page = await cron.ListAsync(Caller.From(user), enabled, limit, cursor, cancellationToken);
        var lines = page.Items.Select(CronToolText.JobLine).ToList();
        if (lines.Count == 0)
        {
            lines.Add("No cron jobs. cron_add makes one.");
        }
        if (page.NextCursor is { } next)
        {
            lines.Add($"More: cursor {next}");
        }
        return ToolResults.Of(page, KennelJson.Default.CronJobPage, string.Join('\n', lines));
    }
}
