using Kennel.Contracts.Servers;
using Microsoft.Extensions.Hosting;

namespace Kennel.ControlPlane.Servers;

/// <summary>
/// Runs each server's bootstrap or removal in the background of this control plane, and stops them when it stops. A
/// bootstrap that no control plane is running any more (its process stopped or died) cannot go on, since its credential
/// was only in that process's memory: every minute, servers left in a step for longer than <see cref="Abandoned"/> are
/// failed. A removal left so is carried on, without a grace period: all it needs is in the store.
/// </summary>
public sealed class ServerRunner(ServerBootstrap bootstrap, Ec2.Ec2Launch launch, ServerRemoval removal, ServerStore store, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Abandoned = TimeSpan.FromMinutes(15);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock gate = new();

    public void Start(string id, SshTarget target, string name, Uri controlPlane) =>
        Run(id, token => bootstrap.RunAsync(id, target, name, controlPlane, token));

    public void StartEc2(string id, string name, Ec2.Ec2Target target, Ec2.Ec2Credentials credentials, Ec2.StoredCloud stored, Uri controlPlane) =>
        Run(id, token => launch.RunAsync(id, name, target, credentials, stored, controlPlane, token));

    /// <summary>Starts removing a server, unless this control plane is at it already.</summary>
    public void StartRemoval(string id, TimeSpan grace) => Run(id, token => removal.RunAsync(id, grace, token));

    private void Run(string id, Func<CancellationToken, Task> work)
    {
        lock (gate)
        {
            if (running.ContainsKey(id))
            {
                return;
            }
            // Held until it is in the table, so that its removal from the table cannot come first.
            var listed = new TaskCompletionSource();
            running[id] = Task.Run(async () =>
            {
                await listed.Task;
                try
                {
                    await work(stopping.Token);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    // Stopping: a removal is carried on later from the store.
                }
                finally
                {
                    running.TryRemove(id, out _);
                }
            });
            listed.SetResult();
        }
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
        foreach (var id in await store.UnfinishedRemovalsAsync(cutoff, cancellationToken))
        {
            StartRemoval(id, TimeSpan.Zero);
        }
    }
}
