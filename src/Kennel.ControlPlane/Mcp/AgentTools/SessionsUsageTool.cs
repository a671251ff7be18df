using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Usage;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Usage;
using Kennel.Mcp;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp.AgentTools;

[AgentTool]
public static class SessionsUsageTool
{
    [McpServerTool(Name = "sessions_usage", Title = "Usage by session", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ConversationUsageReport))]
    [RequiresScope(Scopes.Read)]
    [Description("Token usage and cost per session (conversation) over a period or a date range, costliest first, with the total of all " +
        "sessions in the range. Give conversationId for one session. Deleted sessions still count.")]
    public static async Task<CallToolResult> Run(
        UsageService usage,
        ClaimsPrincipal user,
        [Description(UsageCostTool.PeriodDescription), AllowedValues(UsageService.Day, UsageService.Week, UsageService.Month)] string? period = null,
        [Description(UsageCostTool.FromDescription), MaxLength(UsageCostTool.MaxTimeLength)] string? from = null,
        [Description(UsageCostTool.ToDescription), MaxLength(UsageCostTool.MaxTimeLength)] string? to = null,
        [Description("Only this session (its conversation id, cnv_…)."), MinLength(1), MaxLength(100)] string? conversationId = null,
        [Description("Sessions to list, costliest first."), Range(1, UsageService.MaxConversations)] int limit = UsageService.DefaultConversations,
        CancellationToken cancellationToken = default)
    {
        var report = await usage.ConversationsAsync(Caller.From(user), period, from, to, conversationId, limit, cancellationToken);
        var lines = new List<string> { $"{report.From:u} to {report.To:u}, all sessions: {UsageCostTool.Text(report.Total)}" };
        lines.AddRange(report.Conversations.Select(c => $"{c.ConversationId}: {UsageCostTool.Text(c.Usage)}, last call {c.LastCallAt:u}"));
        if (report.More)
        {
            lines.Add("More sessions had calls in the range; raise limit or narrow the range.");
        }
        return ToolResults.Of(report, KennelJson.Default.ConversationUsageReport, string.Join('\n', lines));
    }
}
