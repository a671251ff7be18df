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
public static class SessionsGetTool
{
    [McpServerTool(Name = "sessions_get", Title = "Get a session", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(Conversation))]
    [RequiresScope(Scopes.Read)]
    [Description("One session's details: agent, key, label, thinking level, token usage and last activity. chat_history reads its transcript.")]
    public static async Task<CallToolResult> Run(
        ConversationService conversations,
        ClaimsPrincipal user,
        [Description(ChatToolText.SessionDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? session = null,
        [Description(ChatToolText.AgentDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? agent = null,
        CancellationToken cancellationToken = default)
    {
        var caller = Caller.From(user);
        var id = await conversations.IdOfAsync(caller, session, agent, cancellationToken);
        var conversation = await conversations.GetAsync(caller, id, cancellationToken);
        return ToolResults.Of(conversation, KennelJson.Default.Conversation, ChatToolText.Conversation(conversation));
    }
}
