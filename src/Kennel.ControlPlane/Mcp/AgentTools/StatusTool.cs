using System.ComponentModel;
using System.Globalization;
using System.Security.Claims;
using Kennel.Contracts;
using Kennel.Contracts.Agents;
using Kennel.Contracts.ApiKeys;
using Kennel.ControlPlane.Agents;
using Kennel.ControlPlane.Auth;
using Kennel.Mcp;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp.AgentTools;

[AgentTool]
public static class StatusTool
{
    [McpServerTool(Name = "status", Title = "Status", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(AgentStatus))]
    [RequiresScope(Scopes.Read)]
    [Description("Tells whether Kennel is working for this workspace: ok or degraded with the reason, version, MCP protocol, the store, " +
        "the workers, and each model provider with the outcome and time of its last call.")]
    public static async Task<CallToolResult> Run(AgentStatusService status, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var report = await status.StatusAsync(Caller.From(user), cancellationToken);
        var lines = new List<string>
        {
            $"{report.Status}{(report.Error is null ? "" : $": {report.Error}")}",
            $"version {report.Version}, protocol {report.Protocol}, store {report.Store.Kind} {report.Store.State}, " +
                string.Create(CultureInfo.InvariantCulture, $"workers {report.Workers.Healthy}/{report.Workers.Enrolled} healthy"),
        };
        lines.AddRange(report.Providers.Select(p => $"provider {p.Name} ({p.Kind}, {p.Source}): " + (p.LastCall is { } call
            ? string.Create(CultureInfo.InvariantCulture, $"last call {call.Outcome} at {call.At:u} ({call.Model})")
            : "not called yet")));
        return ToolResults.Of(report, KennelJson.Default.AgentStatus, string.Join('\n', lines));
    }
}
