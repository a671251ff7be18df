using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
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
public static class SkillsBrowseTool
{
    [McpServerTool(Name = "skills_browse", Title = "Browse skill registries", ReadOnly = true, Destructive = false, Idempotent = true,
        OpenWorld = true, UseStructuredContent = true, OutputSchemaType = typeof(SkillBrowseResult))]
    [RequiresScope(Scopes.Read)]
    [Description("Searches the workspace's skill registries by text (every word must appear in a skill's name, summary or publisher), or " +
        "shows one skill by name with every version: its SHA-256, size, publisher, summary and requirements. Registries that did not " +
        "answer are listed apart, so an empty result is not taken for 'no such skill'.")]
    public static async Task<CallToolResult> Run(
        SkillService skills,
        ClaimsPrincipal user,
        [Description("Words to search for; empty lists every skill."), MaxLength(SkillService.MaxQueryLength)] string? query = null,
        [Description("One skill's name, for its detail: " + SkillToolText.NameDescription), MaxLength(64)] string? name = null,
        [Description("Only this registry (its name in skills_registries)."), MaxLength(64)] string? registry = null,
        [Description("Results at most."), Range(1, SkillService.MaxBrowseResults)] int limit = SkillService.DefaultBrowseResults,
        CancellationToken cancellationToken = default)
    {
        var result = await skills.BrowseAsync(Caller.From(user), query, name, registry, limit, cancellationToken);
        var lines = result.Skills.Select(SkillToolText.Browsed).ToList();
        if (lines.Count == 0)
        {
            lines.Add("No skill matches.");
        }
        lines.AddRange(result.Unavailable.Select(r => "Not searched: " + SkillToolText.Registry(r)));
        return ToolResults.Of(result, KennelJson.Default.SkillBrowseResult, string.Join('\n', lines));
    }
}
