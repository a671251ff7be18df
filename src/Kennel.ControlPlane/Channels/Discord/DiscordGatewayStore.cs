using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.Channels.Discord;

/// <summary>A <c>discord_gateways</c> row: who holds a channel's Gateway connection, and what it last saw.</summary>
public sealed class DiscordGatewayRow
{
    public string WorkspaceId { get; set; } = "";
    public string Channel { get; set; } = "";
    public string? Owner { get; set; }
    public long? LeaseExpiresAt { get; set; }
    public string State { get; set; } = DiscordGatewayStates.Connecting;
    public long? ConnectedAt { get; set; }
    public long? LastAckAt { get; set; }
    public long? LastEventAt { get; set; }
    public string? LastError { get; set; }
    public long? LastErrorAt { get; set; }
    public long? ConfigVersion { get; set; }
}

public static class DiscordGatewayStates
{
    public const string Connecting = "connecting";
    public const string Connected = "connected";
    public const string Reconnecting = "reconnecting";
    public const string Stopped = "stopped";
}

/// <summary>A workspace's Discord channel that can connect (its token is set), under its config's version.</summary>
public sealed record DiscordGatewayChannel(string WorkspaceId, long ConfigVersion, ChannelConfig Channel);

/// <summary>
/// The Gateway connections' leases and records. Leases are taken with one conditional statement, so two control planes
/// never both hold a channel; a stopped connection is not taken again until its workspace's config changes.
/// </summary>
public sealed class DiscordGatewayStore(Database database)
{
    private const string Columns =
        "workspace_id, channel, owner, lease_expires_at, state, connected_at, last_ack_at, last_event_at, last_error, last_error_at, config_version";

    private sealed class ConfigRow
    {
        public string WorkspaceId { get; set; } = "";
        public long Version { get; set; }
        public string Document { get; set; } = "";
    }

    /// <summary>Every workspace's Discord channels with a token set, from each workspace's current config.</summary>
    public async Task<List<DiscordGatewayChannel>> ConfiguredAsync(CancellationToken cancellationToken)
    {
        var rows = await database.ReadAsync(async connection => (await connection.QueryAsync<ConfigRow>(new CommandDefinition(
            "SELECT v.workspace_id, v.version, v.document FROM workspace_config_versions v WHERE v.document LIKE '%\"discord\"%' " +
            "AND v.version = (SELECT MAX(w.version) FROM workspace_config_versions w WHERE w.workspace_id = v.workspace_id)",
            cancellationToken: cancellationToken))).AsList(), cancellationToken);
        var channels = new List<DiscordGatewayChannel>();
        foreach (var row in rows)
        {
            JsonObject? document;
            try
            {
                document = JsonNode.Parse(row.Document) as JsonObject;
            }
            catch (JsonException)
            {
                continue; // the config service writes only valid documents; an unreadable one has no channels
            }
            channels.AddRange(ChannelConfig.AllOf(document ?? [])
                .Where(channel => channel.Kind == DiscordChannel.KindName && channel.SecretsSet.Contains(Slack.SlackChannel.BotToken))
                .Select(channel => new DiscordGatewayChannel(row.WorkspaceId, row.Version, channel)));
        }
        return channels;
    }

    /// <summary>
    /// Takes or renews the lease on a channel's connection for <paramref name="owner"/> until <paramref name="until"/>:
    /// true when it holds it. A lease another holds and has not let run out, or a connection stopped under this very
    /// config version, is not taken.
    /// </summary>
    public Task<bool> AcquireAsync(DiscordGatewayChannel channel, string owner, long now, long until, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var parameters = new { channel.WorkspaceId, Channel = channel.Channel.Name, owner, now, until, version = channel.ConfigVersion };
        return database.WriteAsync(async (connection, transaction) =>
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO discord_gateways (workspace_id, channel, owner, lease_expires_at, state) " +
                $"VALUES (@WorkspaceId, @Channel, @owner, @until, '{DiscordGatewayStates.Connecting}') ON CONFLICT (workspace_id, channel) DO NOTHING",
                parameters, transaction, cancellationToken: cancellationToken)) == 1
            || await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE discord_gateways SET owner = @owner, lease_expires_at = @until WHERE workspace_id = @WorkspaceId AND channel = @Channel " +
                "AND (owner = @owner OR owner IS NULL OR lease_expires_at < @now) " +
                $"AND NOT (state = '{DiscordGatewayStates.Stopped}' AND config_version = @version)",
                parameters, transaction, cancellationToken: cancellationToken)) == 1, cancellationToken);
    }

    /// <summary>Writes what the connection saw, if <paramref name="owner"/> still holds it; false when another control plane took it over.</summary>
    public Task<bool> RecordAsync(DiscordGatewayRow row, string owner, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) => await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE discord_gateways SET state = @State, connected_at = @ConnectedAt, last_ack_at = @LastAckAt, last_event_at = @LastEventAt, " +
            "last_error = @LastError, last_error_at = @LastErrorAt, config_version = @ConfigVersion " +
            "WHERE workspace_id = @WorkspaceId AND channel = @Channel AND owner = @owner",
            new { row.State, row.ConnectedAt, row.LastAckAt, row.LastEventAt, row.LastError, row.LastErrorAt, row.ConfigVersion, row.WorkspaceId, row.Channel, owner },
            transaction, cancellationToken: cancellationToken)) == 1, cancellationToken);

    /// <summary>
    /// Lets go of a connection: <paramref name="forget"/> (the channel is gone) deletes its record; otherwise the lease
    /// ends now, so another control plane takes the connection over at its next look.
    /// </summary>
    public Task ReleaseAsync(string workspaceId, string channel, string owner, bool forget, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            forget
                ? "DELETE FROM discord_gateways WHERE workspace_id = @workspaceId AND channel = @channel AND owner = @owner"
                : "UPDATE discord_gateways SET owner = NULL, lease_expires_at = NULL WHERE workspace_id = @workspaceId AND channel = @channel AND owner = @owner",
            new { workspaceId, channel, owner }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>The workspace's connections' records, by channel.</summary>
    public Task<Dictionary<string, DiscordGatewayRow>> ForWorkspaceAsync(string workspaceId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection => (await connection.QueryAsync<DiscordGatewayRow>(new CommandDefinition(
            $"SELECT {Columns} FROM discord_gateways WHERE workspace_id = @workspaceId", new { workspaceId }, cancellationToken: cancellationToken)))
            .ToDictionary(row => row.Channel, StringComparer.Ordinal), cancellationToken);
}
