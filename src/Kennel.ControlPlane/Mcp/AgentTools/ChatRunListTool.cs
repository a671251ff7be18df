using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Conversations;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Conversations;
using Kennel.ControlPlane.Runs;
using Kennel.Mcp;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp.AgentTools;

[AgentTool]
public static class ChatRunListTool
{
    [McpServerTool(Name = "chat_run_list", Title = "List runs", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(RunPage))]
    [RequiresScope(Scopes.Read)]
    [Description("Lists runs, newest first, active and ended: all of the workspace's, or one session's. Filter by status; page with cursor.")]
    public static async Task<CallToolResult> Run(
        RunService runs,
        ConversationService conversations,
        ClaimsPrincipal user,
        [Description("Only this session's runs: its id (cnv_…) or key."), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? session = null,
        [Description(ChatToolText.AgentDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? agent = null,
        [Description("Comma-separated statuses: queued, running, succeeded, failed, cancelled, timed_out."), MaxLength(100)] string? status = null,
        [Description("Runs per page."), Range(1, RunService.MaxListLimit)] int limit = RunService.DefaultListLimit,
        [Description("nextCursor of the previous page."), MaxLength(ChatToolText.MaxIdLength)] string? cursor = null,
        CancellationToken cancellationToken = default)
    {
        var caller = Caller.From(user);
        var conversationId = session is null ? null : await conversations.IdOfAsync(caller, session, agent, cancellationToken);
        var page = await runs.ListAsync(caller, conversationId, status, limit, cursor, cancellationToken);
        var lines = page.Items.Select(ChatToolText.RunLine).ToList();
        if (lines.Count == 0)
        {
            lines.Add("No runs.");
        }
        if (page.NextCursor is { } next)
        {
            lines.Add($"More: cursor {next}");
        }
        return ToolResults.Of(page, KennelJson.Default.RunPage, string.Join('\n', lines));
    }
}
