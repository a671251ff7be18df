using Dapper;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Daemons;

/// <summary>
/// Releases the runs of daemons with concurrency <c>queue</c>: a held session becomes claimable once no other live
/// session of its daemon is. It looks whenever the session queue changes on this replica and at least once a second.
/// </summary>
public sealed partial class DaemonQueue(Database database, ChangeSignal signal, TimeProvider time, ILogger<DaemonQueue> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var changed = signal.QueueChanged();
            try
            {
                if (await ReleaseAsync(stoppingToken) > 0)
                {
                    signal.PulseQueue();
                }
                await ChangeSignal.WaitAsync(changed, Interval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogFailed(logger, exception);
                await Task.Delay(Interval, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Releases the oldest held session of each daemon that has nothing else live. Returns how many it released.</summary>
    public async Task<int> ReleaseAsync(CancellationToken cancellationToken)
    {
        // A read first: most of the time nothing is held, and this then costs no write transaction.
        var daemons = await database.ReadAsync(async connection => (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT DISTINCT daemon_id FROM sessions WHERE held = 1 AND status = 'pending'", cancellationToken: cancellationToken))).ToList(),
            cancellationToken);
        if (daemons.Count == 0)
        {
            return 0;
        }
        return await database.WriteAsync(async (connection, transaction) =>
        {
            var released = 0;
            foreach (var daemonId in daemons)
            {
                released += await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE sessions SET held = 0 WHERE id = (SELECT MIN(id) FROM sessions WHERE daemon_id = @daemonId AND held = 1 AND status = 'pending') " +
                    $"AND NOT EXISTS (SELECT 1 FROM sessions WHERE daemon_id = @daemonId AND held = 0 AND status IN {SessionStore.NonTerminal})",
                    new { daemonId }, transaction, cancellationToken: cancellationToken));
            }
            return released;
        }, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Releasing queued daemon runs failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
