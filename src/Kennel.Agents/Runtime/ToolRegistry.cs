using Microsoft.Extensions.AI;

namespace Kennel.Agents.Runtime;

/// <summary>Every tool an agent can be given, by name. An agent's definition names the ones it may use.</summary>
public sealed class ToolRegistry
{
    private readonly Dictionary<string, IAgentTool> tools;

    public ToolRegistry(IEnumerable<IAgentTool> tools)
    {
        this.tools = tools.ToDictionary(tool => tool.Name, StringComparer.Ordinal);
    }

    public IAgentTool? Find(string name) => tools.GetValueOrDefault(name);

    /// <summary>The declarations the model is sent for the tools an agent may use; names with no tool are left out.</summary>
    public IList<AITool> Declarations(IEnumerable<string> names) =>
        [.. names.Distinct(StringComparer.Ordinal).Select(Find).OfType<IAgentTool>()
            .Select(tool => AIFunctionFactory.CreateDeclaration(tool.Name, tool.Description, tool.Schema))];
}
