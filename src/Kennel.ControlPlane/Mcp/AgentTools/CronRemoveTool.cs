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
public static class CronRemoveTool
{
    [McpServerTool(Name = "cron_remove", Title = "Remove a cron job", ReadOnly = false, Destructive = true, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(RemovedCronJob))]
    [RequiresScope(Scopes.Write)]
    [Description("Deletes a scheduled job: it never fires again, and its runs waiting their turn are cancelled. A run going now finishes; " +
        "the job's run history stays in cron_runs.")]
    public static async Task<CallToolResult> Run(
        CronService cron,
        ClaimsPrincipal user,
        [Description(CronToolText.JobDescription), MinLength(1), MaxLength(CronToolText.MaxJobLength)] string job,
        CancellationToken cancellationToken = default)
    {
        var removed = await cron.RemoveAsync(Caller.From(user), job, cancellationToken);
        return ToolResults.Of(removed, KennelJson.Default.RemovedCronJob, $"Removed cron job {removed.Id}.");
    }
}
