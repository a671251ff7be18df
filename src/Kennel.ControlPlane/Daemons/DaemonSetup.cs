using Kennel.ControlPlane.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.ControlPlane.Daemons;

/// <summary>Daemons, their webhooks and the memory of their deliveries, the scheduler that fires their schedules, and the cost report, in one registration.</summary>
public static class DaemonSetup
{
    public static IServiceCollection AddDaemons(this IServiceCollection services, DaemonOptions options, SchedulerOptions scheduler)
    {
        services.AddSingleton(options);
        services.AddSingleton(scheduler);
        services.AddSingleton<ScheduleStore>();
        services.AddSingleton<Scheduler>();
        services.AddHostedService(provider => provider.GetRequiredService<Scheduler>());
        services.AddSingleton<DaemonStore>();
        services.AddSingleton<DaemonRuns>();
        services.AddSingleton<IScheduledWork, DaemonSchedule>();
        services.AddSingleton<DaemonService>();
        services.AddSingleton<WebhookReceiver>();
        services.AddSingleton<WebhookDeliveries>();
        services.AddHostedService(provider => provider.GetRequiredService<WebhookDeliveries>());
        services.AddHostedService<DaemonQueue>();
        services.AddSingleton<Cost.CostService>();
        return services;
    }

    public static void MapDaemons(this IEndpointRouteBuilder app)
    {
        DaemonEndpoints.MapDaemonRoutes(app);
        Cost.CostEndpoints.MapCost(app);
    }
}
