using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Snapshots.Build;

/// <summary>
/// Each control plane's builder: it claims one build at a time (a new one, or one whose builder's lease ran out, which
/// then resumes from its cached steps), holds it with a lease it renews, and ends it ready or failed. A build is marked
/// ready only with its image in place, in the same transaction that moves its tags; one taken over
/// <see cref="SnapshotOptions.MaxAttempts"/> times ends failed with <c>build_interrupted</c>.
/// </summary>
public sealed partial class SnapshotBuildService(
    SnapshotStore store, SnapshotBuilder builder, BuildSignal signal, SnapshotOptions options, TimeProvider time, ILogger<SnapshotBuildService> logger)
    : BackgroundService
{
    private static readonly TimeSpan IdleRecheck = TimeSpan.FromSeconds(2);

    private readonly string owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            SnapshotRow? build;
            try
            {
                var now = time.GetUtcNow().ToUnixTimeMilliseconds();
                build = await store.ClaimBuildAsync(owner, now, now + (long)options.Lease.TotalMilliseconds, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException)
            {
                LogClaimFailed(logger, e.Message);
                build = null;
            }
            if (build is null)
            {
                await signal.WaitAsync(IdleRecheck, time, stoppingToken);
                continue;
            }
            await RunAsync(build, stoppingToken);
        }
    }

    private async Task RunAsync(SnapshotRow build, CancellationToken stoppingToken)
    {
        if (build.Attempts > options.MaxAttempts)
        {
            await store.MarkFailedAsync(build.Id, owner, "build_interrupted",
                $"The build was interrupted {options.MaxAttempts} times (its control plane stopped or crashed while it ran).", Now(), CancellationToken.None);
            return;
        }
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        await using var log = new BuildLog(store, build.Id, time);
        var renewing = RenewAsync(build.Id, lost);
        try
        {
            if (build.Attempts > 1)
            {
                await log.WriteAsync($"==> resumed by {Environment.MachineName} (attempt {build.Attempts}): its builder had stopped");
            }
            var (digest, size) = await builder.BuildAsync(build, log, lost.Token);
            await log.WriteAsync($"==> ready: sha256:{digest} ({size} bytes)");
            await log.FlushAsync();
            await store.MarkReadyAsync(build, owner, digest, size, Now(), CancellationToken.None);
        }
        catch (SnapshotBuildException e)
        {
            await Fail(log, build, e.Code, e.Message);
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
            // Stopping, or the lease went to another builder: the build is left for whoever holds it next.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            await Fail(log, build, "build_failed", e.Message);
        }
        finally
        {
            await lost.CancelAsync();
            await renewing;
        }
    }

    private async Task Fail(BuildLog log, SnapshotRow build, string code, string message)
    {
        await log.WriteAsync($"==> failed: {code}: {message}");
        await log.FlushAsync();
        await store.MarkFailedAsync(build.Id, owner, code, message, Now(), CancellationToken.None);
    }

    /// <summary>Renews the lease every third of its life; when it cannot, the build stops here.</summary>
    private async Task RenewAsync(string id, CancellationTokenSource lost)
    {
        try
        {
            while (!lost.IsCancellationRequested)
            {
                await Task.Delay(options.Lease / 3, time, lost.Token);
                if (!await store.RenewLeaseAsync(id, owner, Now() + (long)options.Lease.TotalMilliseconds, lost.Token))
                {
                    LogLeaseLost(logger, id);
                    await lost.CancelAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The build ended.
        }
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not claim a snapshot build: {Reason}")]
    private static partial void LogClaimFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the lease of snapshot build {Id}; another builder holds it now")]
    private static partial void LogLeaseLost(ILogger logger, string id);
}

/// <summary>Wakes this control plane's builder when a build is submitted here; builds submitted elsewhere are found by polling.</summary>
public sealed class BuildSignal : IDisposable
{
    private readonly SemaphoreSlim pulse = new(0, 1);

    public void Pulse()
    {
        try
        {
            pulse.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    public void Dispose() => pulse.Dispose();

    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var delay = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(delay.Token, cancellationToken);
        try
        {
            await pulse.WaitAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Time to look again.
        }
    }
}
