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
public static class SessionsListTool
{
    [McpServerTool(Name = "sessions_list", Title = "List sessions", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ConversationPage))]
    [RequiresScope(Scopes.Read)]
    [Description("Lists sessions (conversations with agents), newest activity first, at most 50 a page, with their usage. Filter by " +
        "agent, label or key; page with cursor.")]
    public static async Task<CallToolResult> Run(
        ConversationService conversations,
        ClaimsPrincipal user,
        [Description("Only this agent's sessions."), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? agent = null,
        [Description("Only sessions with this label."), MinLength(1), MaxLength(ConversationValidator.MaxLabelLength)] string? label = null,
        [Description("Only the session with this key."), MinLength(1), MaxLength(ConversationValidator.MaxKeyLength)] string? key = null,
        [Description("Sessions per page."), Range(1, ConversationValidator.MaxListLimit)] int limit = ConversationValidator.DefaultListLimit,
        [Description("nextCursor of the previous page."), MaxLength(ChatToolText.MaxIdLength)] string? cursor = null,
        CancellationToken cancellationToken = default)
    {
        var page = await conversations.ListAsync(Caller.From(user), agent, label, key, limit, cursor, cancellationToken);
        var lines = page.Items.Select(ChatToolText.Conversation).ToList();
        if (lines.Count == 0)
        {
            lines.Add("No sessions.");
        }
        if (page.NextCursor is { } next)
        {
            lines.Add($"More: cursor {next}");
        }
        return ToolResults.Of(page, KennelJson.Default.ConversationPage, string.Join('\n', lines));
    }
}
