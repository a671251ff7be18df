using System.ComponentModel;
using System.Security.Claims;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Skills;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Skills;
using Kennel.Mcp;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp.AgentTools;

[AgentTool]
public static class SkillsRegistriesTool
{
    [McpServerTool(Name = "skills_registries", Title = "List skill registries", ReadOnly = true, Destructive = false, Idempotent = true,
        OpenWorld = false, UseStructuredContent = true, OutputSchemaType = typeof(SkillRegistryList))]
    [RequiresScope(Scopes.Read)]
    [Description("Lists the skill registries of this workspace's config (skills.registries): each one's name, URL and trust level " +
        "(a skill whose inspection warns installs only from a trusted one), and whether it answered on its last fetch, when, with how " +
        "many skills or the error.")]
    public static async Task<CallToolResult> Run(SkillService skills, ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        var list = await skills.RegistriesAsync(Caller.From(user), cancellationToken);
        var text = list.Registries.Count == 0
            ? "No skill registries. Add one: kennel config set skills.registries.NAME '{\"url\": \"https://…/index.json\"}'."
            : string.Join('\n', list.Registries.Select(SkillToolText.Registry));
        return ToolResults.Of(list, KennelJson.Default.SkillRegistryList, text);
    }
}
