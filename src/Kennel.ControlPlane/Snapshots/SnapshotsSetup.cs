using Kennel.ControlPlane.Snapshots.Build;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.ControlPlane.Snapshots;

public static class SnapshotsSetup
{
    /// <summary>The snapshot store, service and builder, with the debootstrap and snapshot bases. OCI bases register their own <see cref="ISnapshotBaseSource"/>.</summary>
    public static IServiceCollection AddSnapshots(this IServiceCollection services, SnapshotOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<SnapshotStore>();
        services.AddSingleton<SnapshotCatalog>();
        services.AddSingleton<SnapshotService>();
        services.AddSingleton<BuildSignal>();
        services.AddSingleton<BuildSandbox>();
        services.AddSingleton(new AptSources());
        services.AddSingleton<ISnapshotBaseSource, DebootstrapBase>();
        services.AddSingleton<ISnapshotBaseSource, SnapshotImageBase>();
        services.AddSingleton<SnapshotBuilder>();
        services.AddHostedService<SnapshotBuildService>();
        return services;
    }
}
