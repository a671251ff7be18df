using System.Text.Json;
using Kennel.Agents.Runtime;
using Kennel.ControlPlane.Agents;
using Kennel.ControlPlane.Conversations;

namespace Kennel.ControlPlane.Skills;

/// <summary>
/// <c>skill_read</c>: the model reads a skill's SKILL.md (or another text file of it) when it needs the instructions, so
/// the prompt carries only each skill's name and one line. Only a skill the conversation's agent has, only from the
/// verified archive.
/// </summary>
public sealed class SkillReadTool(SkillService skills, ConversationStore conversations, AgentService agents) : IAgentTool
{
    public const string ToolName = "skill_read";
    public const int MaxChars = 64 * 1024;

    public string Name => ToolName;

    public string Description => "Read one of your skills' instructions (SKILL.md) or another text file of the skill, by the skill's name.";

    public JsonElement Schema { get; } = JsonDocument.Parse("""
        {"type":"object","properties":{"name":{"type":"string","pattern":"^[a-z0-9][a-z0-9-]{0,63}$"},
        "path":{"type":"string","maxLength":256,"description":"A file of the skill; SKILL.md when absent."}},"required":["name"],"additionalProperties":false}
        """).RootElement.Clone();

    public async Task<ToolOutput> InvokeAsync(ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var arguments = invocation.Arguments;
        if (arguments.ValueKind != JsonValueKind.Object || !arguments.TryGetProperty("name", out var nameValue)
            || nameValue.ValueKind != JsonValueKind.String || nameValue.GetString() is not { Length: > 0 and <= 64 } name)
        {
            return ToolOutput.Error("skill_read needs \"name\": the name of one of your skills.");
        }
        var path = SkillInspector.ManifestPath;
        if (arguments.TryGetProperty("path", out var pathValue))
        {
            if (pathValue.ValueKind != JsonValueKind.String || pathValue.GetString() is not { Length: > 0 and <= 256 } given)
            {
                return ToolOutput.Error("skill_read's \"path\" must be a file of the skill, such as SKILL.md or scripts/run.sh.");
            }
            path = given.TrimStart('/');
        }
        var conversation = await conversations.GetAsync(invocation.WorkspaceId, invocation.ConversationId, cancellationToken);
        var agent = conversation is null ? null : (await agents.DirectoryAsync(invocation.WorkspaceId, cancellationToken)).FindAgent(conversation.Agent);
        var text = agent is null ? null : await skills.ReadFileAsync(invocation.WorkspaceId, agent, name, path, MaxChars, cancellationToken);
        return text is null
            ? ToolOutput.Error($"You have no skill '{name}' with a text file '{path}'. Your skills are listed in your instructions.")
            : new ToolOutput(text);
    }
}
