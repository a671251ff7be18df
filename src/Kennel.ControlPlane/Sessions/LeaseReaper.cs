using Kennel.ControlPlane.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Sessions;

/// <summary>Settles sessions whose worker went silent: within one lease term plus one interval, they end or requeue.</summary>
public sealed partial class LeaseReaper(SessionQueue queue, ControlPlaneOptions options, TimeProvider time, ILogger<LeaseReaper> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await queue.RenewAllLeasesAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.ReaperInterval, time);
        while (await NextTickAsync(timer, stoppingToken))
        {
            try
            {
                var settled = await queue.ReapExpiredLeasesAsync(stoppingToken);
                if (settled > 0)
                {
                    LogSettled(logger, settled);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The store may be briefly unreachable; the next tick tries again.
                LogFailed(logger, exception);
            }
        }
    }

    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false; // stopping
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Settled {Count} session(s) whose worker stopped heartbeating")]
    private static partial void LogSettled(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Lease reaping failed; retrying on the next tick")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
