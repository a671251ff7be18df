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
public static class SkillsListTool
{
    [McpServerTool(Name = "skills_list", Title = "List installed skills", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(SkillList))]
    [RequiresScope(Scopes.Read)]
    [Description("Lists the skills installed in this workspace: each one's version, registry and pinned SHA-256, its inspection verdict " +
        "(clean, or warn with the warnings that were acknowledged), the agents that have it, and whether it is eligible (its required " +
        "programs and env vars are there) or, if not, what is missing.")]
    public static async Task<CallToolResult> Run(SkillService skills, ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        var list = await skills.ListAsync(Caller.From(user), cancellationToken);
        var text = list.Skills.Count == 0
            ? "No skills are installed. skills_browse finds some; skills_install installs one."
            : string.Join('\n', list.Skills.Select(SkillToolText.Installed));
        return ToolResults.Of(list, KennelJson.Default.SkillList, text);
    }
}
