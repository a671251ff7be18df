using System.Text;
using Kennel.Agents.Models;

namespace Kennel.ControlPlane.Skills;

/// <summary>A skill as the agent's prompt lists it: its name and the first line of its description, no more.</summary>
public sealed record PromptSkill(string Name, string Summary);

/// <summary>
/// The skills section of an agent's system prompt: one short line per eligible skill, so skills cost a few tokens a turn;
/// the model reads a skill's full SKILL.md through <see cref="SkillReadTool"/> when it needs it.
/// </summary>
public static class SkillPrompt
{
    public const int MaxSummaryLength = 160;

    public static string Instructions(AgentDefinition agent, IReadOnlyList<PromptSkill> skills)
    {
        if (skills.Count == 0)
        {
            return agent.Instructions;
        }
        var text = new StringBuilder(agent.Instructions);
        text.Append("\n\n## Skills\nYou have these skills. Before you use one, read its instructions with the ")
            .Append(SkillReadTool.ToolName).Append(" tool. Its files are read-only under /skills/<name>/ in the sandboxes that exec starts.\n");
        foreach (var skill in skills)
        {
            text.Append("- ").Append(skill.Name).Append(": ").Append(skill.Summary).Append('\n');
        }
        return text.ToString().TrimEnd('\n');
    }

    /// <summary>The agent's tools, with <see cref="SkillReadTool"/> added when it has any skill.</summary>
    public static IReadOnlyList<string> Tools(AgentDefinition agent, IReadOnlyList<PromptSkill> skills) =>
        skills.Count == 0 || agent.Tools.Contains(SkillReadTool.ToolName) ? agent.Tools : [.. agent.Tools, SkillReadTool.ToolName];

    public static string Summary(string description)
    {
        var line = description.Split('\n', 2)[0].Trim();
        return line.Length <= MaxSummaryLength ? line : line[..(MaxSummaryLength - 1)] + "…";
    }
}
