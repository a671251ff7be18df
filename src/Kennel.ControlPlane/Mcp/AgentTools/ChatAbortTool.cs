using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Conversations;
using Kennel.ControlPlane.Runs;
using Kennel.Mcp;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp.AgentTools;

[AgentTool]
public static class ChatAbortTool
{
    [McpServerTool(Name = "chat_abort", Title = "Stop the answer in progress", ReadOnly = false, Destructive = true, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(Contracts.Conversations.Run))]
    [RequiresScope(Scopes.Chat)]
    [Description("Stops the session's active run (the running one, else the oldest queued): the model stream is closed and every " +
        "sandbox session it started is cancelled. The partial answer is kept.")]
    public static async Task<CallToolResult> Run(
        RunService runs,
        ConversationService conversations,
        ClaimsPrincipal user,
        [Description(ChatToolText.SessionDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? session = null,
        [Description(ChatToolText.AgentDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? agent = null,
        CancellationToken cancellationToken = default)
    {
        var caller = Caller.From(user);
        var id = await conversations.IdOfAsync(caller, session, agent, cancellationToken);
        var run = await runs.AbortAsync(caller, id, cancellationToken);
        return ToolResults.Of(run, KennelJson.Default.Run, ChatToolText.Run(run));
    }
}
