using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.Json;
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
public static class ConfigSetTool
{
    [McpServerTool(Name = "config_set", Title = "Change the workspace config", ReadOnly = false, Destructive = true, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ConfigWrite))]
    [RequiresScope(Scopes.Write)]
    [Description("Sets one path of the workspace's config to a JSON value (null removes it), kept as a new version. Give baseHash " +
        "(from config_get) to refuse the write if the config changed since: the conflict names the current hash. A value that breaks " +
        "the schema is refused with the path and the reason. An apiKey is stored as a secret and reads back as {\"secretSet\": true}.")]
    public static async Task<CallToolResult> Run(
        ConfigService config,
        ClaimsPrincipal user,
        [Description("Dotted path to set, e.g. agents.main.thinking or providers.local."), MinLength(1), MaxLength(ConfigGetTool.MaxPathLength)]
        string path,
        [Description("The JSON value to put there, e.g. \"high\" or {\"kind\": \"openai\", \"baseUrl\": \"http://localhost:11434/v1\"}; null removes the path.")]
        JsonElement value,
        [Description("The hash config_get returned; the write is refused if the document has changed since."), MaxLength(100)]
        string? baseHash = null,
        CancellationToken cancellationToken = default)
    {
        var written = await config.SetAsync(Caller.From(user), new SetConfigRequest { Path = path, Value = value, BaseHash = baseHash },
            wholeDocument: false, cancellationToken);
        return ToolResults.Of(written, KennelJson.Default.ConfigWrite, written.ChangedPaths.Count == 0
            ? $"Nothing changed; version {written.Version}, hash {written.Hash}."
            : $"Version {written.Version}, hash {written.Hash}; changed {string.Join(", ", written.ChangedPaths)}.");
    }
}
