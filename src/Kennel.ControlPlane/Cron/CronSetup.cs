using Kennel.ControlPlane.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.ControlPlane.Cron;

/// <summary>Agents' cron jobs: their store, the scheduler's work of kind <c>cron</c>, the tracker that records each run's end, and the service.</summary>
public static class CronSetup
{
    public static IServiceCollection AddCron(this IServiceCollection services)
    {
        services.AddSingleton<CronStore>();
        services.AddSingleton<CronLauncher>();
        services.AddSingleton<CronDeliveries>();
        services.AddSingleton<IScheduledWork, CronJobSchedule>();
        services.AddSingleton<CronTracker>();
        services.AddHostedService(provider => provider.GetRequiredService<CronTracker>());
        services.AddSingleton<CronService>();
        return services;
    }
}
