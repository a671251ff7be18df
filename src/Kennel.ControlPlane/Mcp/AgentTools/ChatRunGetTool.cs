using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Conversations;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Runs;
using Kennel.Mcp;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp.AgentTools;

[AgentTool]
public static class ChatRunGetTool
{
    [McpServerTool(Name = "chat_run_get", Title = "Get a run", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(Run))]
    [RequiresScope(Scopes.Read)]
    [Description("A run's status and, once it has ended, its answer or error. waitSeconds waits for it to end first, up to that long.")]
    public static async Task<CallToolResult> Run(
        RunService runs,
        ClaimsPrincipal user,
        [Description(ChatToolText.RunIdDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string runId,
        [Description("Wait up to this long for the run to end; 0 answers at once."), Range(0, ChatSendTool.MaxWaitSeconds)] int waitSeconds = 0,
        CancellationToken cancellationToken = default)
    {
        var run = await runs.WaitAsync(Caller.From(user), runId, waitSeconds * 1000L, cancellationToken);
        return ToolResults.Of(run, KennelJson.Default.Run, ChatToolText.Run(run));
    }
}
