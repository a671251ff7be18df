using Kennel.Agents.Models;
using Kennel.Agents.Providers;
using Kennel.Contracts.Agents;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Config;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Secrets;
using Microsoft.Extensions.AI;

namespace Kennel.ControlPlane.Agents;

/// <summary>What a run needs to call an agent's model: the agent, its catalogue entry, and a ready client.</summary>
public sealed record AgentChat(AgentDefinition Agent, ModelInfo Model, IChatClient Client);

/// <summary>
/// A workspace's agents and models, read from its config over the installation's providers, and the one place a run
/// gets the <see cref="IChatClient"/> of an agent: <see cref="ChatForAsync"/> resolves the provider, decrypts its key
/// (never logged, never returned), and wraps the SDK client.
/// </summary>
public sealed class AgentService(ConfigService config, SecretService secrets, ChatClientFactory clients, IReadOnlyList<ProviderSettings> installation)
{
    public async Task<AgentDirectory> DirectoryAsync(string workspaceId, CancellationToken cancellationToken) =>
        new(WorkspaceAgentSettings.From(await config.DocumentAsync(workspaceId, cancellationToken), KeySecret), installation);

    public async Task<ModelList> ListModelsAsync(Caller caller, CancellationToken cancellationToken)
    {
        var directory = await DirectoryAsync(caller.WorkspaceId, cancellationToken);
        return new([.. directory.Models.All.Select(model => new ModelEntry
        {
            Id = model.Ref,
            Provider = model.Provider,
            Model = model.Id,
            ContextWindow = model.ContextWindow,
            Thinking = model.SupportsThinking,
            Prices = new ModelPricing(model.Prices.Input, model.Prices.Output, model.Prices.CacheRead, model.Prices.CacheWrite),
            Available = directory.HasProvider(model.Provider),
        })]);
    }

    public async Task<AgentList> ListAgentsAsync(Caller caller, CancellationToken cancellationToken)
    {
        var directory = await DirectoryAsync(caller.WorkspaceId, cancellationToken);
        return new([.. directory.Agents.Select(entry => new AgentEntry
        {
            Name = entry.Agent.Name,
            Model = entry.Agent.Model.ToString(),
            Instructions = entry.Agent.Instructions,
            Thinking = entry.Agent.Thinking.Name(),
            Tools = entry.Agent.Tools,
            Configured = entry.Configured,
        })]);
    }

    /// <summary>The providers a workspace's agents can use: its own, then the installation's it does not override.</summary>
    public async Task<IReadOnlyList<(string Name, ProviderKind Kind, bool Installation)>> ProvidersAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var own = WorkspaceAgentSettings.From(await config.DocumentAsync(workspaceId, cancellationToken), KeySecret).Providers;
        return [.. own.Select(p => (p.Name, p.Kind, false)), .. installation.Where(p => own.All(o => o.Name != p.Name)).Select(p => (p.Name, p.Kind, true))];
    }

    /// <summary>
    /// Checks, without a call or a secret read, that an agent exists (else 404) and that its model has a provider (else a
    /// <see cref="ProviderException"/> saying how to add one): what a chat checks before it writes anything.
    /// </summary>
    public async Task RequireProviderAsync(string workspaceId, string agentName, CancellationToken cancellationToken)
    {
        var directory = await DirectoryAsync(workspaceId, cancellationToken);
        var agent = directory.FindAgent(agentName) ?? throw ApiProblem.NotFound("agent", agentName);
        _ = directory.Provider(agent.Model);
    }

    /// <summary>
    /// The client for an agent of a workspace. An unknown agent is a 404; a model with no provider, or a provider whose
    /// key cannot be read, is a <see cref="ProviderException"/> that says how to fix it, raised before any call is made.
    /// </summary>
    public async Task<AgentChat> ChatForAsync(string workspaceId, string agentName, CancellationToken cancellationToken)
    {
        var directory = await DirectoryAsync(workspaceId, cancellationToken);
        var agent = directory.FindAgent(agentName) ?? throw ApiProblem.NotFound("agent", agentName);
        var choice = directory.Provider(agent.Model);
        var provider = choice.Settings;
        if (choice.KeySecret is { } secret)
        {
            var resolved = await secrets.ResolveAsync(workspaceId, [secret], cancellationToken);
            if (!resolved.Values.TryGetValue(secret, out var key))
            {
                throw new ProviderException(ProviderException.NotConfigured,
                    $"The API key of provider '{provider.Name}' cannot be read; set it again: kennel config set providers.{provider.Name}.apiKey '\"…\"'.");
            }
            provider = provider with { ApiKey = key };
        }
        var model = directory.Models.Find(agent.Model);
        return new AgentChat(agent, model, clients.Create(provider, model));
    }

    private static string KeySecret(string provider) =>
        ConfigService.SecretName(ConfigPath.Root.Append(PathSegment.Of("providers")).Append(PathSegment.Of(provider)).Append(PathSegment.Of("apiKey")));
}
