using Kennel.Contracts.Servers;
using Microsoft.Extensions.Hosting;

namespace Kennel.ControlPlane.Servers;

/// <summary>
/// Runs each server's bootstrap in the background of this control plane, and stops them when it stops. A bootstrap that
/// no control plane is running any more (its process stopped or died) cannot go on, since its credential was only in that
/// process's memory: every minute, servers left in a step for longer than <see cref="Abandoned"/> are failed.
/// </summary>
public sealed class ServerRunner(ServerBootstrap bootstrap, ServerStore store, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Abandoned = TimeSpan.FromMinutes(15);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stopping = new();

    public void Start(string id, SshTarget target, string name, Uri controlPlane)
    {
        running[id] = Task.Run(async () =>
        {
            try
            {
                await bootstrap.RunAsync(id, target, name, controlPlane, stopping.Token);
            }
            finally
            {
                running.TryRemove(id, out _);
            }
        });
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        await Task.WhenAll(running.Values).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        stopping.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), time);
        try
        {
            do
            {
                await FailAbandonedAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task FailAbandonedAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().Subtract(Abandoned).ToUnixTimeMilliseconds();
        foreach (var id in await store.UnfinishedAsync(cutoff, cancellationToken))
        {
            if (!running.ContainsKey(id))
            {
                await store.StepAsync(id, ServerStatuses.Failed, $"No control plane has carried the bootstrap on for {Abandoned.TotalMinutes:0} minutes " +
                    "(the one running it stopped); delete the server and add it again.", time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken,
                    errorCode: ConnectionErrors.BootstrapFailed);
            }
        }
    }
}
