using Kennel.Agents.Providers;

namespace Kennel.Agents.Models;

/// <summary>
/// An agent: a model, instructions, a default thinking level, and the tools it may call (by name; the tool registry
/// resolves them). Every workspace has <see cref="MainName"/> whether or not its config names it.
/// </summary>
public sealed record AgentDefinition(string Name, ModelRef Model, string Instructions, ThinkingLevel Thinking, IReadOnlyList<string> Tools)
{
    public const string MainName = "main";

    /// <summary>The installed skills the agent has, by name; null means every skill installed in its workspace.</summary>
    public IReadOnlyList<string>? Skills { get; init; }

    /// <summary>Whether the agent has the installed skill <paramref name="name"/>.</summary>
    public bool HasSkill(string name) => Skills is null || Skills.Contains(name);

    public const string MainInstructions = "You are a helpful assistant. Answer briefly and precisely.";

    /// <summary>
    /// The default <c>main</c>: the first model of the first provider the workspace can use (its own, then the
    /// installation's), so a fresh install with only <c>OPENAI_BASE_URL</c> set has a working agent.
    /// </summary>
    public static AgentDefinition Main(ModelRef model) => new(MainName, model, MainInstructions, ThinkingLevel.Off, ["exec"]);
}
