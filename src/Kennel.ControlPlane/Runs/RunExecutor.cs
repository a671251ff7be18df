using Kennel.Contracts.Conversations;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Runs;

/// <summary>
/// Claims runs under leases and executes them, in every control plane: a replica claims each conversation's oldest live
/// run when it is queued or its lease ran out, renews the leases of what it runs, and stops a run promptly when its
/// cancel is asked for, here or on another replica.
/// </summary>
public sealed partial class RunExecutor(Database database, RunStore runs, TurnRunner runner, LiveRuns live, ChangeSignal signal,
    ControlPlaneOptions options, TimeProvider time, ILogger<RunExecutor> logger) : BackgroundService
{
    // How often a cancel asked for on another replica is looked for.
    private static readonly TimeSpan CancelPoll = TimeSpan.FromMilliseconds(250);

    private readonly string owner = SortableId.New("cp", time);
    private int executing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (database.IsExclusive)
        {
            await runs.ExpireAllLeasesAsync(stoppingToken);
        }
        var watching = WatchAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            var changed = signal.RunQueueChanged();
            try
            {
                var free = options.MaxConcurrentRuns - Volatile.Read(ref executing);
                if (free > 0)
                {
                    var now = time.GetUtcNow().ToUnixTimeMilliseconds();
                    foreach (var run in await runs.ClaimAsync(owner, now, now + (long)options.LeaseTtl.TotalMilliseconds, free, stoppingToken))
                    {
                        Interlocked.Increment(ref executing);
                        _ = Task.Run(() => RunAsync(run, stoppingToken), CancellationToken.None);
                    }
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogClaimFailed(logger, exception);
            }
            await ChangeSignal.WaitAsync(changed, SessionService.RecheckInterval, time, stoppingToken)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        await watching.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>
    /// Gives back every run first, so the steps still in flight here can no longer commit (each commit checks the run is
    /// held) and no tool call is marked stopped: the next claim resumes each run from its last committed step.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await runs.ReleaseAllAsync(owner, cancellationToken);
        }
        catch (Exception exception) when (exception is System.Data.Common.DbException or InvalidOperationException)
        {
            LogClaimFailed(logger, exception); // the leases run out instead
        }
        await base.StopAsync(cancellationToken);
    }

    private async Task RunAsync(RunRow run, CancellationToken shutdown)
    {
        using var stop = new CancellationTokenSource();
        live.Started(run.Id, stop);
        signal.PulseRun(run.Id);
        try
        {
            if (run.CancelRequestedAt is not null)
            {
                await stop.CancelAsync();
            }
            var outcome = await runner.ExecuteAsync(run, owner, stop.Token, shutdown);
            await runs.FinishAsync(run.Id, owner, outcome, time.GetUtcNow().ToUnixTimeMilliseconds(), CancellationToken.None);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            // Stopping: the run is given back as it stands, and whichever control plane claims it next resumes it.
            await runs.ReleaseAsync(run.Id, owner, CancellationToken.None);
        }
        catch (RunLostException) when (shutdown.IsCancellationRequested)
        {
            // Given back on the way down (StopAsync).
        }
        catch (RunLostException)
        {
            LogLost(logger, run.Id);
        }
        catch (Exception exception)
        {
            LogRunFailed(logger, run.Id, exception);
            await runs.FinishAsync(run.Id, owner, new RunOutcome(RunStatus.Failed, null,
                new RunError(Http.ErrorCodes.InternalError, "The run failed inside Kennel; the server log has the cause.")),
                time.GetUtcNow().ToUnixTimeMilliseconds(), CancellationToken.None);
        }
        finally
        {
            live.Ended(run.Id);
            Interlocked.Decrement(ref executing);
            signal.PulseRun(run.Id);
            signal.PulseRunQueue();
        }
    }

    /// <summary>Renews this replica's leases well inside their term, and stops the runs whose cancel was asked for.</summary>
    private async Task WatchAsync(CancellationToken stoppingToken)
    {
        var renewEvery = options.LeaseTtl / 3;
        var lastRenewal = time.GetTimestamp();
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(CancelPoll, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (Volatile.Read(ref executing) == 0 || stoppingToken.IsCancellationRequested)
            {
                continue;
            }
            try
            {
                List<string> cancelled;
                if (time.GetElapsedTime(lastRenewal) >= renewEvery)
                {
                    lastRenewal = time.GetTimestamp();
                    cancelled = await runs.RenewAsync(owner, (time.GetUtcNow() + options.LeaseTtl).ToUnixTimeMilliseconds(), stoppingToken);
                }
                else
                {
                    cancelled = await runs.CancelRequestedAsync(owner, stoppingToken);
                }
                cancelled.ForEach(id => live.TryStop(id));
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogClaimFailed(logger, exception);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Claiming or renewing agent runs failed; retrying")]
    private static partial void LogClaimFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} was taken over by another control plane after its lease ran out")]
    private static partial void LogLost(ILogger logger, string runId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Run {RunId} failed inside Kennel")]
    private static partial void LogRunFailed(ILogger logger, string runId, Exception exception);
}
