using System.CommandLine;
using Kennel.ControlPlane.Hosting;

namespace Kennel.Cli;

/// <summary><c>kennel serve</c>: the control plane with its embedded worker, configured by <c>KENNEL_*</c> variables.</summary>
public static class ServeCommand
{
    public static Command Build()
    {
        var serve = new Command("serve", """
            Run the control plane: REST API, queue and an embedded worker.
            Configured by environment: KENNEL_LISTEN (127.0.0.1:4000), KENNEL_DATA_DIR (~/.kennel),
            KENNEL_DATABASE_URL (PostgreSQL; unset = SQLite in the data dir), KENNEL_EMBEDDED_WORKER (true),
            KENNEL_OUTPUT_LIMIT_BYTES, KENNEL_MAX_BODY_BYTES, KENNEL_LEASE_TTL_SECONDS, KENNEL_SANDBOX_UIDS,
            KENNEL_WORKER_VCPUS, KENNEL_WORKER_MEMORY_MB, KENNEL_WORKER_SLOTS. See the README for all of them.
            """);
        serve.SetAction(async (_, cancellationToken) =>
        {
            var settings = KennelSettings.FromEnvironment();
            await using var server = await KennelServer.StartAsync(settings, cancellationToken: cancellationToken);
            Console.Out.WriteLine($"Kennel {HealthEndpoints.Version} listening on {server.Url} (store: {server.Database.Description})");
            if (server.BootstrapKey is { } key)
            {
                Console.Out.WriteLine($"Bootstrap admin API key (shown once; also saved to {Path.Combine(settings.DataDir, "admin-api-key")}):");
                Console.Out.WriteLine($"  {key}");
            }
            using var serving = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var trim = IdleTrim.RunAsync(TimeProvider.System, serving.Token);
            await server.WaitForShutdownAsync(cancellationToken);
            await serving.CancelAsync();
            await trim;
            return ExitCodes.Ok;
        });
        return serve;
    }
}
