using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
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
public static class UsageCostTool
{
    public const string PeriodDescription = "day (since midnight UTC), week or month (the last 7 or 30 UTC days); or give from/to instead.";
    public const string FromDescription = "Start of the range: a date (2026-12-01, midnight UTC) or an RFC 3339 time.";
    public const string ToDescription = "End of the range, excluded: a date or an RFC 3339 time; default now.";
    public const int MaxTimeLength = 40;

    [McpServerTool(Name = "usage_cost", Title = "Usage and cost", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(UsageReport))]
    [RequiresScope(Scopes.Read)]
    [Description("Sums this workspace's model calls over a period or a date range: calls, input, output, cache read and cache write tokens, " +
        "and cost in USD at each call's prices, in total and grouped by day, model or agent. Deleted conversations still count.")]
    public static async Task<CallToolResult> Run(
        UsageService usage,
        ClaimsPrincipal user,
        [Description(PeriodDescription), AllowedValues(UsageService.Day, UsageService.Week, UsageService.Month)] string? period = null,
        [Description(FromDescription), MaxLength(MaxTimeLength)] string? from = null,
        [Description(ToDescription), MaxLength(MaxTimeLength)] string? to = null,
        [Description("Group by day (default), model or agent."), AllowedValues(UsageService.ByDay, UsageService.ByModel, UsageService.ByAgent)]
        string? groupBy = null,
        CancellationToken cancellationToken = default)
    {
        var report = await usage.CostAsync(Caller.From(user), period, from, to, groupBy, cancellationToken);
        var lines = new List<string> { $"{report.From:u} to {report.To:u}: {Text(report.Total)}" };
        lines.AddRange(report.Groups.Select(g => $"{g.Key}: {Text(g.Usage)}"));
        return ToolResults.Of(report, KennelJson.Default.UsageReport, string.Join('\n', lines));
    }

    public static string Text(UsageTotals t) => string.Create(CultureInfo.InvariantCulture,
        $"{t.Calls} calls, {t.InputTokens} input, {t.OutputTokens} output, {t.CacheReadTokens} cache read, {t.CacheWriteTokens} cache write tokens, ${t.CostUsd:0.######}");
}
