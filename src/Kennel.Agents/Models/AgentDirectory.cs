using Kennel.Agents.Providers;

namespace Kennel.Agents.Models;

/// <summary>A provider an agent's model resolved to, and where its key comes from.</summary>
public sealed record ProviderChoice(ProviderSettings Settings, string? KeySecret, bool Installation);

/// <summary>
/// One workspace's agents, models and providers: its config laid over the installation's providers and the shipped
/// catalogue. Pure: reading the config and resolving secrets happen around it.
/// </summary>
public sealed class AgentDirectory
{
    private readonly WorkspaceAgentSettings settings;
    private readonly IReadOnlyList<ProviderSettings> installation;

    public AgentDirectory(WorkspaceAgentSettings settings, IReadOnlyList<ProviderSettings> installation)
    {
        this.settings = settings;
        this.installation = installation;
        Models = new ModelCatalogue(settings.Models);
        DefaultModel = DefaultModelRef();
        Agents = BuildAgents();
    }

    public ModelCatalogue Models { get; }

    /// <summary><c>main</c> first, then the others by name; <c>main</c> is there whether or not the config names it.</summary>
    public IReadOnlyList<(AgentDefinition Agent, bool Configured)> Agents { get; }

    /// <summary>The model of an agent whose config names none: the first available provider's default model.</summary>
    public ModelRef DefaultModel { get; }

    public bool HasProvider(string name) =>
        settings.Providers.Any(p => p.Name == name) || installation.Any(p => p.Name == name);

    public AgentDefinition? FindAgent(string name) => Agents.FirstOrDefault(entry => entry.Agent.Name == name).Agent;

    /// <summary>
    /// The provider of a model: the workspace's own of that name, else the installation's. None configured at all, or
    /// none of that name, is a <see cref="ProviderException"/> (<c>provider_not_configured</c>) that says how to add one.
    /// </summary>
    public ProviderChoice Provider(ModelRef model)
    {
        if (settings.Providers.FirstOrDefault(p => p.Name == model.Provider) is { } own)
        {
            return new ProviderChoice(new ProviderSettings(own.Name, own.Kind, own.BaseUrl, null), own.KeySecret, false);
        }
        if (installation.FirstOrDefault(p => p.Name == model.Provider) is { } shared)
        {
            return new ProviderChoice(shared, null, true);
        }
        var how = settings.Providers.Count == 0 && installation.Count == 0
            ? "No model provider is configured."
            : $"No provider '{model.Provider}' is configured for model '{model}'.";
        var example = model.Provider == "anthropic"
            ? "'{\"kind\":\"anthropic\",\"apiKey\":\"sk-ant-…\"}'"
            : "'{\"kind\":\"openai\",\"baseUrl\":\"https://api.openai.com/v1\",\"apiKey\":\"sk-…\"}'";
        throw new ProviderException(ProviderException.NotConfigured,
            $"{how} Set OPENAI_API_KEY (or OPENAI_BASE_URL for a local OpenAI-compatible server such as Ollama) or ANTHROPIC_API_KEY " +
            $"where kennel serve runs, or add one to this workspace: kennel config set providers.{model.Provider} {example}.");
    }

    private ModelRef DefaultModelRef()
    {
        var first = settings.Providers.Select(p => (p.Name, p.Kind)).Concat(installation.Select(p => (p.Name, p.Kind))).FirstOrDefault();
        return first.Name is null ? new ModelRef("openai", ProviderKind.OpenAI.DefaultModel()) : new ModelRef(first.Name, first.Kind.DefaultModel());
    }

    private List<(AgentDefinition, bool)> BuildAgents()
    {
        var main = AgentDefinition.Main(DefaultModel);
        var configured = settings.Agents.ToDictionary(agent => agent.Name, StringComparer.Ordinal);
        var agents = new List<(AgentDefinition, bool)> { configured.TryGetValue(AgentDefinition.MainName, out var own) ? (Fill(own, main), true) : (main, false) };
        agents.AddRange(settings.Agents.Where(agent => agent.Name != AgentDefinition.MainName).OrderBy(agent => agent.Name, StringComparer.Ordinal)
            .Select(agent => (Fill(agent, main), true)));
        return agents;
    }

    private static AgentDefinition Fill(ConfiguredAgent agent, AgentDefinition defaults) => new(
        agent.Name, agent.Model ?? defaults.Model, agent.Instructions ?? defaults.Instructions, agent.Thinking ?? defaults.Thinking,
        agent.Tools ?? defaults.Tools)
    {
        Skills = agent.Skills,
    };
}
