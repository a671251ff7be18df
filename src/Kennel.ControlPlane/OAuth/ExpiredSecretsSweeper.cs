using Dapper;
using Kennel.ControlPlane.Hosting;
using Kennel.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// Deletes what can no longer be used: expired sign-in sessions, codes and refresh tokens (a used refresh token is
/// kept until it expires, so presenting it again is still recognised as reuse). Every replica may run it; the deletes
/// are idempotent.
/// </summary>
public sealed partial class ExpiredSecretsSweeper(Database database, TimeProvider time, ILogger<ExpiredSecretsSweeper> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);
    private static readonly string[] Statements =
    [
        "DELETE FROM login_sessions WHERE expires_at < @now",
        "DELETE FROM oauth_codes WHERE expires_at < @now",
        "DELETE FROM oauth_refresh_tokens WHERE expires_at < @now",
    ];

    /// <summary>One sweep; returns the rows deleted.</summary>
    public Task<int> SweepAsync(CancellationToken cancellationToken) => database.WriteAsync(async (connection, transaction) =>
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var deleted = 0;
        foreach (var statement in Statements)
        {
            deleted += await connection.ExecuteAsync(new CommandDefinition(statement, new { now }, transaction, cancellationToken: cancellationToken));
        }
        return deleted;
    }, cancellationToken);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicUpkeep.RunAsync(Interval, time, SweepAsync, exception => LogFailed(logger, exception), stoppingToken);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sweeping expired OAuth secrets failed; retrying on the next tick")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
