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
public static class SessionsPatchTool
{
    [McpServerTool(Name = "sessions_patch", Title = "Change a session", ReadOnly = false, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(Conversation))]
    [RequiresScope(Scopes.Write)]
    [Description("Sets a session's label or thinking level (off, minimal, low, medium, high). What is not given stays as it is.")]
    public static async Task<CallToolResult> Run(
        ConversationService conversations,
        ClaimsPrincipal user,
        [Description(ChatToolText.SessionDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? session = null,
        [Description(ChatToolText.AgentDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? agent = null,
        [Description("The new label."), MinLength(1), MaxLength(ConversationValidator.MaxLabelLength)] string? label = null,
        [Description("The new thinking level."), AllowedValues("off", "minimal", "low", "medium", "high")] string? thinking = null,
        CancellationToken cancellationToken = default)
    {
        var caller = Caller.From(user);
        var id = await conversations.IdOfAsync(caller, session, agent, cancellationToken);
        var conversation = await conversations.UpdateAsync(caller, id, new UpdateConversationRequest { Label = label, Thinking = thinking },
            cancellationToken);
        return ToolResults.Of(conversation, KennelJson.Default.Conversation, ChatToolText.Conversation(conversation));
    }
}
