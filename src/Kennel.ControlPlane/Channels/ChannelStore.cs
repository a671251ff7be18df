using System.Data.Common;
using Dapper;
using Kennel.ControlPlane.Delivery;
using Kennel.Store;

namespace Kennel.ControlPlane.Channels;

/// <summary>
/// The channels' tables: events taken (for exactly-once), every message in and out (the outbound ones are the outbox,
/// claimed under leases like the webhook outbox), and each channel's counters. Every read for people names the
/// workspace in its SQL.
/// </summary>
public sealed class ChannelStore(Database database)
{
    internal const string Columns =
        "id, workspace_id, channel, direction, action, chat, thread, sender, text, target_message, emoji, platform_message_id, run_id, status, " +
        "attempts, next_attempt_at, last_error, last_http_status, created_at, sent_at";

    /// <summary>The counters a channel keeps: which count goes up, and which columns record the moment (and the detail).</summary>
    public enum Counter { Received, Ignored, Sent, Failed }

    /// <summary>Takes a platform event once: true the first time, false for every retry of it.</summary>
    internal static async Task<bool> TakeEventAsync(DbConnection connection, DbTransaction transaction, string workspaceId, string channel, string eventId,
        long now, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO channel_events (workspace_id, channel, event_id, received_at) VALUES (@workspaceId, @channel, @eventId, @now) " +
            "ON CONFLICT (workspace_id, channel, event_id) DO NOTHING",
            new { workspaceId, channel, eventId, now }, transaction, cancellationToken: cancellationToken)) == 1;

    internal static Task InsertAsync(DbConnection connection, DbTransaction transaction, ChannelMessageRow row, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO channel_messages ({Columns}) VALUES (@Id, @WorkspaceId, @Channel, @Direction, @Action, @Chat, @Thread, @Sender, @Text, " +
            "@TargetMessage, @Emoji, @PlatformMessageId, @RunId, @Status, @Attempts, @NextAttemptAt, @LastError, @LastHttpStatus, @CreatedAt, @SentAt)",
            row, transaction, cancellationToken: cancellationToken));

    /// <summary>Counts one event of <paramref name="counter"/> for the channel, with its moment and detail (the sender ignored, the error).</summary>
    internal static Task CountAsync(DbConnection connection, DbTransaction transaction, string workspaceId, string channel, Counter counter, long now,
        string? detail, CancellationToken cancellationToken)
    {
        var (count, at, about) = counter switch
        {
            Counter.Received => ("received_count", "last_inbound_at", (string?)null),
            Counter.Ignored => ("ignored_count", "last_ignored_at", "last_ignored_sender"),
            Counter.Sent => ("sent_count", "last_sent_at", null),
            _ => ("failed_count", "last_failed_at", "last_error"),
        };
        var columns = about is null ? $"{count}, {at}" : $"{count}, {at}, {about}";
        var values = about is null ? "1, @now" : "1, @now, @detail";
        var updates = $"{count} = channel_stats.{count} + 1, {at} = @now" + (about is null ? "" : $", {about} = @detail");
        return connection.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO channel_stats (workspace_id, channel, {columns}) VALUES (@workspaceId, @channel, {values}) " +
            $"ON CONFLICT (workspace_id, channel) DO UPDATE SET {updates}",
            new { workspaceId, channel, now, detail }, transaction, cancellationToken: cancellationToken));
    }

    public Task CountAsync(string workspaceId, string channel, Counter counter, string? detail, long now, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => CountAsync(connection, transaction, workspaceId, channel, counter, now, detail, cancellationToken),
            cancellationToken);

    public Task<List<ChannelStatsRow>> StatsAsync(string workspaceId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection => (await connection.QueryAsync<ChannelStatsRow>(new CommandDefinition(
            "SELECT channel, received_count, ignored_count, sent_count, failed_count, last_inbound_at, last_ignored_at, last_ignored_sender, " +
            "last_sent_at, last_failed_at, last_error, registration_at, registration_url, registration_error FROM channel_stats WHERE workspace_id = @workspaceId",
            new { workspaceId }, cancellationToken: cancellationToken))).AsList(), cancellationToken);

    /// <summary>Records a registration with the platform: when, the inbound URL it named, and the platform's error (null when accepted).</summary>
    public Task RegisteredAsync(string workspaceId, string channel, string url, string? error, long now, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO channel_stats (workspace_id, channel, registration_at, registration_url, registration_error) VALUES (@workspaceId, @channel, @now, @url, @error) " +
            "ON CONFLICT (workspace_id, channel) DO UPDATE SET registration_at = @now, registration_url = @url, registration_error = @error",
            new { workspaceId, channel, now, url, error }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>How many sends wait (queued or for a retry), by channel.</summary>
    public Task<Dictionary<string, long>> PendingAsync(string workspaceId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection => (await connection.QueryAsync<(string Channel, long Count)>(new CommandDefinition(
            $"SELECT channel, COUNT(*) FROM channel_messages WHERE workspace_id = @workspaceId AND status = '{ChannelMessageStatus.Pending}' GROUP BY channel",
            new { workspaceId }, cancellationToken: cancellationToken))).ToDictionary(r => r.Channel, r => r.Count, StringComparer.Ordinal), cancellationToken);

    public Task<ChannelMessageRow?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<ChannelMessageRow>(new CommandDefinition(
            $"SELECT {Columns} FROM channel_messages WHERE workspace_id = @workspaceId AND id = @id", new { workspaceId, id },
            cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>The outbound messages answering <paramref name="runIds"/> (agent or cron runs) in the workspace, by run id; the newest of each.</summary>
    public async Task<Dictionary<string, ChannelMessageRow>> ByRunAsync(string workspaceId, IReadOnlyCollection<string> runIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runIds);
        var rows = runIds.Count == 0 ? [] : await database.ReadAsync(async connection => (await connection.QueryAsync<ChannelMessageRow>(new CommandDefinition(
            $"SELECT {Columns} FROM channel_messages WHERE workspace_id = @workspaceId AND direction = '{ChannelDirections.Out}' " +
            $"AND run_id {database.InList("runIds")} ORDER BY id", new { workspaceId, runIds = runIds.ToArray() }, cancellationToken: cancellationToken))).AsList(),
            cancellationToken);
        var byRun = new Dictionary<string, ChannelMessageRow>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            byRun[row.RunId!] = row;
        }
        return byRun;
    }

    /// <summary>What <c>channels_history</c> filters by; every field but the workspace and the limit is optional.</summary>
    public sealed record HistoryFilter(string? Channel, string? Chat, string? Sender, string? Direction, string? Query, long? Since, long? Until,
        string? Before, int Limit);

    /// <summary>The workspace's messages, newest first, matching <paramref name="filter"/>.</summary>
    public Task<List<ChannelMessageRow>> HistoryAsync(string workspaceId, HistoryFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var where = new List<string> { "workspace_id = @workspaceId" };
        if (filter.Channel is not null)
        {
            where.Add("channel = @Channel");
        }
        if (filter.Chat is not null)
        {
            where.Add("chat = @Chat");
        }
        if (filter.Sender is not null)
        {
            where.Add("sender = @Sender");
        }
        if (filter.Direction is not null)
        {
            where.Add("direction = @Direction");
        }
        if (filter.Query is not null)
        {
            where.Add("LOWER(text) LIKE @pattern ESCAPE '\\'");
        }
        if (filter.Since is not null)
        {
            where.Add("created_at >= @Since");
        }
        if (filter.Until is not null)
        {
            where.Add("created_at < @Until");
        }
        if (filter.Before is not null)
        {
            where.Add("id < @Before");
        }
        var pattern = filter.Query is null ? null
            : "%" + filter.Query.ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal)
                .Replace("_", "\\_", StringComparison.Ordinal) + "%";
        var parameters = new DynamicParameters(filter);
        parameters.Add("workspaceId", workspaceId);
        parameters.Add("pattern", pattern);
        return database.ReadAsync(async connection => (await connection.QueryAsync<ChannelMessageRow>(new CommandDefinition(
            $"SELECT {Columns} FROM channel_messages WHERE {string.Join(" AND ", where)} ORDER BY id DESC LIMIT @Limit",
            parameters, cancellationToken: cancellationToken))).AsList(), cancellationToken);
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> due outbound messages for <paramref name="owner"/> until <paramref name="lease"/>,
    /// counting the attempt: the candidates are read first, and a conditional update decides between replicas.
    /// </summary>
    internal async Task<List<ChannelMessageRow>> ClaimAsync(string owner, long now, long lease, int limit, CancellationToken cancellationToken)
    {
        var candidates = await database.ReadAsync(async connection => (await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT id FROM channel_messages WHERE status = '{ChannelMessageStatus.Pending}' AND next_attempt_at <= @now " +
            "AND (lease_expires_at IS NULL OR lease_expires_at < @now) ORDER BY next_attempt_at LIMIT @limit",
            new { now, limit }, cancellationToken: cancellationToken))).AsList(), cancellationToken);
        if (candidates.Count == 0)
        {
            return [];
        }
        return await database.WriteAsync(async (connection, transaction) =>
        {
            var claimed = new List<ChannelMessageRow>();
            foreach (var id in candidates)
            {
                if (await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE channel_messages SET owner = @owner, lease_expires_at = @lease, attempts = attempts + 1 " +
                    $"WHERE id = @id AND status = '{ChannelMessageStatus.Pending}' AND (lease_expires_at IS NULL OR lease_expires_at < @now)",
                    new { id, owner, lease, now }, transaction, cancellationToken: cancellationToken)) == 1)
                {
                    claimed.Add(await connection.QuerySingleAsync<ChannelMessageRow>(new CommandDefinition(
                        $"SELECT {Columns} FROM channel_messages WHERE id = @id", new { id }, transaction, cancellationToken: cancellationToken)));
                }
            }
            return claimed;
        }, cancellationToken);
    }

    /// <summary>Records an attempt's outcome and counts it for the channel, if <paramref name="owner"/> still holds the claim.</summary>
    internal Task<bool> RecordAsync(ChannelMessageRow row, string owner, string status, DeliveryAttempt attempt, string? platformMessageId, long now,
        long? next, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var changed = await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE channel_messages SET status = @status, next_attempt_at = @next, last_error = @Error, last_http_status = @HttpStatus, " +
                "platform_message_id = COALESCE(@platformMessageId, platform_message_id), sent_at = @sentAt, owner = NULL, lease_expires_at = NULL " +
                "WHERE id = @Id AND owner = @owner",
                new { status, next, attempt.Error, attempt.HttpStatus, platformMessageId, sentAt = attempt.Delivered ? now : (long?)null, row.Id, owner },
                transaction, cancellationToken: cancellationToken));
            if (changed == 0)
            {
                return false;
            }
            if (status != ChannelMessageStatus.Pending)
            {
                await CountAsync(connection, transaction, row.WorkspaceId, row.Channel, attempt.Delivered ? Counter.Sent : Counter.Failed, now, attempt.Error,
                    cancellationToken);
            }
            return true;
        }, cancellationToken);

    /// <summary>Gives back a claim this process could not finish (it is stopping): due again at once, the attempt uncounted.</summary>
    internal Task ReleaseAsync(string id, string owner, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE channel_messages SET attempts = attempts - 1, owner = NULL, lease_expires_at = NULL WHERE id = @id AND owner = @owner",
            new { id, owner }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Frees every claim at start-up on a store this process alone writes.</summary>
    internal Task ExpireAllLeasesAsync(CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE channel_messages SET lease_expires_at = 0 WHERE status = '{ChannelMessageStatus.Pending}' AND lease_expires_at IS NOT NULL",
            transaction: transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Forgets events taken before <paramref name="before"/>: no platform retries a delivery that late.</summary>
    internal Task<int> PruneEventsAsync(long before, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM channel_events WHERE received_at < @before", new { before }, transaction, cancellationToken: cancellationToken)), cancellationToken);
}
