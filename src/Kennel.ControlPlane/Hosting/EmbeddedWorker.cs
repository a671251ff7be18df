using Kennel.ControlPlane.Workers;
using Kennel.Sandbox;
using Kennel.Worker;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Hosting;

/// <summary>
/// The worker inside <c>kennel serve</c>. It is an ordinary worker that happens to share the process: it speaks the
/// same HTTP protocol to this server's own address, so a single-node install exercises exactly what a fleet does.
/// </summary>
public sealed class EmbeddedWorker(
    IServer server,
    IHostApplicationLifetime lifetime,
    WorkerRegistry registry,
    ISandboxRuntime sandbox,
    WorkerAgentOptions options,
    TimeProvider time,
    ILoggerFactory loggers) : BackgroundService, IHostedLifecycleService
{
    private readonly CancellationTokenSource draining = new();

    /// <summary>
    /// Runs before any hosted service stops, so while Kestrel still answers: the worker kills its sandboxes and reports
    /// how they ended to this server, instead of leaving them to look running until the next start.
    /// </summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await draining.CancelAsync();
        if (ExecuteTask is { } running)
        {
            await running.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Dispose()
    {
        draining.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, draining.Token);
        var stopping = linked.Token;
        // The listen address (and a port picked by the OS) is known only once the server has started.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stopping.Register(() => started.TrySetCanceled(stopping)))
        {
            await started.Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        if (stopping.IsCancellationRequested)
        {
            return; // stopped before the server ever started
        }
        var address = server.Features.Get<IServerAddressesFeature>()!.Addresses.First();
        // Named by host and port: stable across restarts, and distinct for replicas that share a host and a store.
        var enrolled = await registry.EnsureEmbeddedAsync($"embedded@{Environment.MachineName}:{new Uri(address).Port}", options.Capacity, stopping);
        using var http = ControlPlaneClient.CreateHttpClient(new Uri(Loopback(address) + "/"), enrolled.Credential);
        var agent = new WorkerAgent(new ControlPlaneClient(http), sandbox, options, time, loggers.CreateLogger<WorkerAgent>());
        await agent.RunAsync(stopping);
    }

    // A server bound to all interfaces is reached over loopback from inside.
    private static string Loopback(string address) =>
        address.Replace("://0.0.0.0:", "://127.0.0.1:", StringComparison.Ordinal)
            .Replace("://[::]:", "://[::1]:", StringComparison.Ordinal)
            .Replace("://+:", "://127.0.0.1:", StringComparison.Ordinal)
            .Replace("://*:", "://127.0.0.1:", StringComparison.Ordinal);
}
