using System.ComponentModel;
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
public static class AgentsListTool
{
    [McpServerTool(Name = "agents_list", Title = "List agents", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(AgentList))]
    [RequiresScope(Scopes.Read)]
    [Description("Lists this workspace's agents with their model, instructions, default thinking level and tools. main is always " +
        "there; change an agent with config_set at agents.NAME.")]
    public static async Task<CallToolResult> Run(AgentService agents, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var list = await agents.ListAgentsAsync(Caller.From(user), cancellationToken);
        return ToolResults.Of(list, KennelJson.Default.AgentList, string.Join('\n', list.Items.Select(a =>
            $"{a.Name}  {a.Model}  thinking {a.Thinking}  tools {(a.Tools.Count == 0 ? "none" : string.Join(",", a.Tools))}" +
            (a.Configured ? "" : "  (defaults)"))));
    }
}
