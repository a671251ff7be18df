using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Conversations;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Conversations;
using Kennel.Mcp;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp.AgentTools;

[AgentTool]
public static class SessionsDeleteTool
{
    [McpServerTool(Name = "sessions_delete", Title = "Delete a session", ReadOnly = false, Destructive = true, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(DeletedConversation))]
    [RequiresScope(Scopes.Write)]
    [Description("Deletes a session. Without deleteTranscript it is archived: gone from sessions_list, its transcript kept. With " +
        "deleteTranscript the transcript is deleted too. Its cost stays in usage_cost either way. A session with a run going is refused; " +
        "chat_abort it first.")]
    public static async Task<CallToolResult> Run(
        ConversationService conversations,
        ClaimsPrincipal user,
        [Description(ChatToolText.SessionDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? session = null,
        [Description(ChatToolText.AgentDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? agent = null,
        [Description("Also delete the transcript, for good.")] bool deleteTranscript = false,
        CancellationToken cancellationToken = default)
    {
        var caller = Caller.From(user);
        var id = await conversations.IdOfAsync(caller, session, agent, cancellationToken);
        var deleted = await conversations.DeleteAsync(caller, id, deleteTranscript, cancellationToken);
        return ToolResults.Of(deleted, KennelJson.Default.DeletedConversation,
            deleteTranscript ? $"Session {id} deleted with its transcript." : $"Session {id} archived; its transcript is kept.");
    }
}
