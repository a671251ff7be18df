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
public static class SkillsInstallTool
{
    [McpServerTool(Name = "skills_install", Title = "Install a skill", ReadOnly = false, Destructive = false, Idempotent = true, OpenWorld = true,
        UseStructuredContent = true, OutputSchemaType = typeof(SkillInstallResult))]
    [RequiresScope(Scopes.Write)]
    [Description("Installs a skill from a registry, pinned to its version and SHA-256. Before anything is written it checks the archive's " +
        "hash against the registry's, its sizes and file count, its paths and links, SKILL.md, and scans for known attacks (pipes to a " +
        "shell, executed base64, downloads from raw IPs or shorteners, hidden instructions, credential paths). A blocked skill is refused " +
        "with the reasons; one with warnings needs acknowledgeWarnings: true and a trusted registry. The same version with other bytes " +
        "than first installed is refused as tampering.")]
    public static async Task<CallToolResult> Run(
        SkillService skills,
        ClaimsPrincipal user,
        [Description(SkillToolText.NameDescription), MinLength(1), MaxLength(64)] string name,
        [Description("A version the registry lists; the newest when absent."), MaxLength(SkillService.MaxVersionLength)] string? version = null,
        [Description("The registry to install from; by default the first (in config order) that has the skill."), MaxLength(64)] string? registry = null,
        [Description("Install although the inspection warns (the warnings are in the refusal; read them first).")] bool acknowledgeWarnings = false,
        CancellationToken cancellationToken = default)
    {
        var result = await skills.InstallAsync(Caller.From(user),
            new InstallSkillRequest { Name = name, Version = version, Registry = registry, AcknowledgeWarnings = acknowledgeWarnings }, cancellationToken);
        return ToolResults.Of(result, KennelJson.Default.SkillInstallResult, $"{result.Outcome}: {SkillToolText.Installed(result.Skill)}");
    }
}
