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
public static class CronRunTool
{
    [McpServerTool(Name = "cron_run", Title = "Run a cron job now", ReadOnly = false, Destructive = false, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(CronRun))]
    [RequiresScope(Scopes.Write)]
    [Description("Runs a job now, due or not (its schedule is unchanged). Refused with run_in_progress while one of its runs is going, " +
        "unless the job's overlap is queue. Answers at once with the run; cron_runs shows how it ends.")]
    public static async Task<CallToolResult> Run(
        CronService cron,
        ClaimsPrincipal user,
        [Description(CronToolText.JobDescription), MinLength(1), MaxLength(CronToolText.MaxJobLength)] string job,
        CancellationToken cancellationToken = default)
    {
        var run = await cron.RunAsync(Caller.From(user), job, cancellationToken);
        return ToolResults.Of(run, KennelJson.Default.CronRun, CronToolText.RunLine(run));
    }
}
