using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Config;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Config;
using Kennel.Mcp;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp.AgentTools;

[AgentTool]
public static class ConfigGetTool
{
    public const int MaxPathLength = 500;

    [McpServerTool(Name = "config_get", Title = "Read the workspace config", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ConfigValue))]
    [RequiresScope(Scopes.Read)]
    [Description("Reads the workspace's config document (agents, providers, models), or the value at one path, with the document's hash. " +
        "Pass that hash as baseHash to config_set so a concurrent change is not overwritten. Secrets show as {\"secretSet\": true}.")]
    public static async Task<CallToolResult> Run(
        ConfigService config,
        ClaimsPrincipal user,
        [Description("Dotted path, e.g. agents.main.thinking or providers.openai; omit for the whole document."), MaxLength(MaxPathLength)]
        string? path = null,
        CancellationToken cancellationToken = default)
    {
        var value = await config.GetAsync(Caller.From(user), path, cancellationToken);
        return ToolResults.Of(value, KennelJson.Default.ConfigValue, $"{(value.Path.Length == 0 ? "(document)" : value.Path)} = {value.Value.GetRawText()}\nhash {value.Hash}");
    }
}
