using Kennel.Agents.Runtime;
using Kennel.ControlPlane.Agents.Tools;
using Kennel.ControlPlane.Conversations;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.ControlPlane.Runs;

public static class RunServices
{
    /// <summary>Conversations, runs, the executor that claims them, and the agent tools (one class each, over a service call).</summary>
    public static IServiceCollection AddRuns(this IServiceCollection services, TurnLimits limits)
    {
        services.AddSingleton(limits);
        services.AddSingleton<ConversationStore>();
        services.AddSingleton<ConversationService>();
        services.AddSingleton<RunStore>();
        services.AddSingleton<RunService>();
        services.AddSingleton<LiveRuns>();
        services.AddSingleton<IAgentTool, ExecTool>();
        services.AddSingleton<IAgentTool, Skills.SkillReadTool>();
        services.AddSingleton(provider => new ToolRegistry(provider.GetServices<IAgentTool>()));
        services.AddSingleton<AgentLoop>();
        services.AddSingleton<TurnRunner>();
        services.AddHostedService<RunExecutor>();
        return services;
    }
}
