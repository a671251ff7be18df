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
public static class ChatRunCancelTool
{
    [McpServerTool(Name = "chat_run_cancel", Title = "Cancel a run", ReadOnly = false, Destructive = true, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(Run))]
    [RequiresScope(Scopes.Chat)]
    [Description("Cancels a run: a queued run never starts; a running one has its model stream closed and its sandbox sessions " +
        "cancelled. The partial answer is kept in the transcript.")]
    public static async Task<CallToolResult> Run(
        RunService runs,
        ClaimsPrincipal user,
        [Description(ChatToolText.RunIdDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string runId,
        CancellationToken cancellationToken = default)
    {
        var run = await runs.CancelAsync(Caller.From(user), runId, cancellationToken);
        return ToolResults.Of(run, KennelJson.Default.Run, ChatToolText.Run(run));
    }
}
