using System.Data.Common;
using Dapper;
using Kennel.ControlPlane.Hosting;
using Kennel.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Daemons;

/// <summary>
/// The deliveries each daemon has acted on (<c>webhook_deliveries</c>). A delivery is remembered in the transaction that
/// starts its run, by a conditional insert under a unique key, so of two identical deliveries racing on any replicas
/// exactly one commits a run. Rows past their expiry are deleted in the background.
/// </summary>
public sealed partial class WebhookDeliveries(Database database, TimeProvider time, ILogger<WebhookDeliveries> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    // An expired row still refuses nothing (the insert below replaces it); it is kept an hour longer so a replica whose
    // clock runs behind the sweeper's still finds the rows it considers live.
    private static readonly TimeSpan Grace = TimeSpan.FromHours(1);

    /// <summary>
    /// Remembers <paramref name="delivery"/> for the daemon, inside the caller's transaction. False when one of its keys
    /// is remembered and unexpired: the delivery was received before, and the caller must start nothing.
    /// </summary>
    internal static async Task<bool> RememberAsync(DbConnection connection, DbTransaction transaction, string workspaceId, string daemonId,
        WebhookDelivery delivery, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var key in delivery.Keys)
        {
            var remembered = await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO webhook_deliveries (workspace_id, daemon_id, delivery_key, received_at, expires_at) " +
                "VALUES (@workspaceId, @daemonId, @key, @now, @until) " +
                "ON CONFLICT (workspace_id, daemon_id, delivery_key) DO UPDATE SET received_at = excluded.received_at, expires_at = excluded.expires_at " +
                "WHERE webhook_deliveries.expires_at < excluded.received_at",
                new { workspaceId, daemonId, key, now = now.ToUnixTimeMilliseconds(), until = delivery.RememberUntil.ToUnixTimeMilliseconds() },
                transaction, cancellationToken: cancellationToken));
            if (remembered == 0)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Deletes the rows that expired more than <see cref="Grace"/> ago; returns how many.</summary>
    public Task<int> SweepAsync(CancellationToken cancellationToken) => database.WriteAsync((connection, transaction) =>
        connection.ExecuteAsync(new CommandDefinition("DELETE FROM webhook_deliveries WHERE expires_at < @before",
            new { before = (time.GetUtcNow() - Grace).ToUnixTimeMilliseconds() }, transaction, cancellationToken: cancellationToken)),
        cancellationToken);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicUpkeep.RunAsync(Interval, time, SweepAsync, exception => LogFailed(logger, exception), stoppingToken);

    [LoggerMessage(Level = LogLevel.Error, Message = "Deleting expired webhook deliveries failed; retrying on the next tick")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
