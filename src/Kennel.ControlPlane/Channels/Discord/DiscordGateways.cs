using Kennel.ControlPlane.Sessions;
using Kennel.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Channels.Discord;

/// <summary>
/// Runs the Gateway connections of every workspace's Discord channels, in every control plane: each look (a third of
/// the lease) reads which channels can connect, takes or renews each one's lease in the store, and runs a
/// <see cref="DiscordGatewayConnection"/> for each lease it holds, so one control plane holds each channel's
/// connection. A connection whose lease was lost, or whose channel was removed (or its token unset), is stopped; at
/// shutdown the leases are let go at once, so another control plane takes over at its next look.
/// </summary>
public sealed partial class DiscordGateways(DiscordGatewayServices services) : BackgroundService
{
    private readonly string owner = SortableId.New("cp", services.Time);
    private readonly Dictionary<(string WorkspaceId, string Channel), Running> running = [];

    /// <summary>A connection this control plane runs, under the config version it started with and a hash of its token.</summary>
    private sealed record Running(DiscordGatewayConnection Connection, CancellationTokenSource Stop, Task Task, long Version, string Token)
    {
        public bool Restart { get; init; }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var look = services.Options.GatewayLease / 3;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await LookAsync(stoppingToken);
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    LogLookFailed(services.Logger, exception);
                }
                await Task.Delay(look, services.Time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            foreach (var key in running.Keys.ToList())
            {
                await StopAsync(key, Release.Let);
            }
        }
    }

    /// <summary>One look: takes or renews the lease of every channel that can connect, and starts or stops connections to match.</summary>
    private async Task LookAsync(CancellationToken stoppingToken)
    {
        var channels = await services.Store.ConfiguredAsync(stoppingToken);
        var now = services.Time.GetUtcNow();
        var configured = new HashSet<(string, string)>();
        foreach (var channel in channels)
        {
            var key = (channel.WorkspaceId, channel.Channel.Name);
            configured.Add(key);
            var holds = await services.Store.AcquireAsync(channel, owner, now.ToUnixTimeMilliseconds(), (now + services.Options.GatewayLease).ToUnixTimeMilliseconds(),
                stoppingToken);
            if (running.TryGetValue(key, out var current) && holds && !current.Task.IsCompleted && current.Version != channel.ConfigVersion)
            {
                // The config changed: a token set anew restarts the connection, anything else leaves it be.
                current = running[key] = current with { Version = channel.ConfigVersion, Restart = current.Token != await TokenHashAsync(channel, stoppingToken) };
            }
            // A connection that ended under a lease still held (stopped, then the config changed) starts again below.
            if (current is not null && (!holds || current.Task.IsCompleted || current.Restart))
            {
                await StopAsync(key, holds ? Release.Keep : Release.Let);
            }
            if (holds && !running.ContainsKey(key))
            {
                var connection = new DiscordGatewayConnection(services, channel, owner);
                var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                running[key] = new Running(connection, stop, Task.Run(() => connection.RunAsync(stop.Token), CancellationToken.None), channel.ConfigVersion,
                    await TokenHashAsync(channel, stoppingToken));
            }
        }
        foreach (var key in running.Keys.Where(key => !configured.Contains(key)).ToList())
        {
            await StopAsync(key, Release.Forget);
        }
    }

    /// <summary>A hash of the channel's token as it reads now, to see it changed without keeping it.</summary>
    private async Task<string> TokenHashAsync(DiscordGatewayChannel channel, CancellationToken cancellationToken)
    {
        var values = await ChannelSecrets.ResolveAsync(services.Secrets, channel.WorkspaceId, channel.Channel, cancellationToken);
        return values.TryGetValue(Slack.SlackChannel.BotToken, out var token)
            ? Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)))
            : "";
    }

    private enum Release
    {
        /// <summary>Keep the lease: a new connection follows.</summary>
        Keep,

        /// <summary>Let the lease go, so another control plane takes the connection over at once.</summary>
        Let,

        /// <summary>The channel is gone: delete its record.</summary>
        Forget,
    }

    private async Task StopAsync((string WorkspaceId, string Channel) key, Release release)
    {
        var (connection, stop, task, _, _) = running[key];
        running.Remove(key);
        await stop.CancelAsync();
        await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        stop.Dispose();
        connection.Dispose();
        if (release != Release.Keep)
        {
            await services.Store.ReleaseAsync(key.WorkspaceId, key.Channel, owner, release == Release.Forget, CancellationToken.None);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Looking after the Discord Gateway connections failed; trying again at the next look")]
    private static partial void LogLookFailed(ILogger logger, Exception exception);
}
