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
public static class ModelsListTool
{
    [McpServerTool(Name = "models_list", Title = "List models", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ModelList))]
    [RequiresScope(Scopes.Read)]
    [Description("Lists the models this workspace's agents can use, as provider/model, with context window, whether it supports " +
        "thinking, prices in USD per million tokens (input, output, cache read, cache write) and whether its provider is configured.")]
    public static async Task<CallToolResult> Run(AgentService agents, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var models = await agents.ListModelsAsync(Caller.From(user), cancellationToken);
        return ToolResults.Of(models, KennelJson.Default.ModelList, models.Items.Count == 0 ? "No models." : string.Join('\n', models.Items.Select(m =>
            string.Create(CultureInfo.InvariantCulture,
                $"{m.Id}  context {m.ContextWindow}  thinking {(m.Thinking ? "yes" : "no")}  ${m.Prices.Input}/${m.Prices.Output} per M in/out  " +
                $"{(m.Available ? "available" : "no provider")}"))));
    }
}
