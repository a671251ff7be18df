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
public static class ChatHistoryTool
{
    [McpServerTool(Name = "chat_history", Title = "Read a session's transcript", ReadOnly = true, Destructive = false, Idempotent = true,
        OpenWorld = false, UseStructuredContent = true, OutputSchemaType = typeof(TranscriptPage))]
    [RequiresScope(Scopes.Read)]
    [Description("A session's transcript as stored, oldest first: user and assistant messages, tool calls and tool results, each " +
        "once. Page with limit and offset.")]
    public static async Task<CallToolResult> Run(
        ConversationService conversations,
        ClaimsPrincipal user,
        [Description(ChatToolText.SessionDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? session = null,
        [Description(ChatToolText.AgentDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? agent = null,
        [Description("Entries to return."), Range(1, ConversationValidator.MaxHistoryLimit)] int limit = ConversationValidator.DefaultHistoryLimit,
        [Description("Entries to skip from the start."), Range(0, int.MaxValue)] int offset = 0,
        CancellationToken cancellationToken = default)
    {
        var caller = Caller.From(user);
        var id = await conversations.IdOfAsync(caller, session, agent, cancellationToken);
        var page = await conversations.HistoryAsync(caller, id, limit, offset, cancellationToken);
        var lines = page.Items.Select(ChatToolText.Entry).ToList();
        if (lines.Count == 0)
        {
            lines.Add("No entries.");
        }
        if (page.HasMore)
        {
            lines.Add($"More: offset {offset + page.Items.Count}");
        }
        return ToolResults.Of(page, KennelJson.Default.TranscriptPage, string.Join('\n', lines));
    }
}
