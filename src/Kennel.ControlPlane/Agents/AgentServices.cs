using Kennel.Agents.Providers;
using Kennel.ControlPlane.Config;
using Kennel.ControlPlane.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.ControlPlane.Agents;

public static class AgentServices
{
    /// <summary>
    /// The config document and the agent runtime's edge: one <see cref="HttpClient"/> for every provider call, whose
    /// <see cref="ProviderRetryHandler"/> is the only retry policy, and no request timeout of its own (a run's turn
    /// timeout bounds a call; a thinking model may stream for minutes).
    /// </summary>
    public static IServiceCollection AddAgents(this IServiceCollection services, KennelSettings settings)
    {
        services.AddSingleton<ConfigStore>();
        services.AddSingleton<ConfigService>();
        services.AddSingleton<Usage.UsageLedger>();
        services.AddSingleton<Usage.UsageStore>();
        services.AddSingleton<Usage.UsageService>();
        services.AddSingleton<AgentStatusService>();
        services.AddSingleton(provider => new ChatClientFactory(new HttpClient(
            new ProviderRetryHandler(settings.Time) { InnerHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) } })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        }));
        services.AddSingleton(provider => new AgentService(provider.GetRequiredService<ConfigService>(),
            provider.GetRequiredService<Secrets.SecretService>(), provider.GetRequiredService<ChatClientFactory>(), settings.Providers));
        return services;
    }
}
