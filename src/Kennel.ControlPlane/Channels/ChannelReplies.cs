using System.Data.Common;
using Dapper;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Channels;

/// <summary>
/// Sends each answer back where its message came from, in every control plane: when the run an inbound message started
/// has ended, one transaction marks the message answered and queues the answer (or, for a run that failed, a short
/// note saying so) to the same chat and thread. The conditional update makes each answer queued once, whichever replica
/// sees it first; the work is read from the store each time, so a restart loses nothing.
/// </summary>
public sealed partial class ChannelReplies(Database database, ChannelOutbox outbox, ChangeSignal signal, TimeProvider time, ILogger<ChannelReplies> logger)
    : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private const int Batch = 200;

    internal sealed class Ended
    {
        public string Id { get; set; } = "";
        public string WorkspaceId { get; set; } = "";
        public string Channel { get; set; } = "";
        public string Chat { get; set; } = "";
        public string? Thread { get; set; }
        public string RunId { get; set; } = "";
        public string Status { get; set; } = "";
        public string? Answer { get; set; }
        public string? ErrorCode { get; set; }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var changed = signal.RunQueueChanged();
            try
            {
                while (await SweepAsync(stoppingToken) >= Batch)
                {
                }
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogSweepFailed(logger, exception);
            }
            await ChangeSignal.WaitAsync(changed, Poll, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Queues the answers of the runs that ended since the last sweep; returns how many it found.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var ended = await database.ReadAsync(async connection => (await connection.QueryAsync<Ended>(new CommandDefinition(
            "SELECT m.id, m.workspace_id, m.channel, m.chat, m.thread, m.run_id, r.status, r.answer, r.error_code FROM channel_messages m " +
            $"JOIN runs r ON r.id = m.run_id WHERE m.status = '{ChannelMessageStatus.Awaiting}' " +
            "AND r.status IN ('succeeded', 'failed', 'cancelled', 'timed_out') LIMIT @limit",
            new { limit = Batch }, cancellationToken: cancellationToken))).AsList(), cancellationToken);
        foreach (var message in ended)
        {
            try
            {
                await database.WriteAsync((connection, transaction) => AnswerAsync(connection, transaction, message, cancellationToken), cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogAnswerFailed(logger, exception, message.Id);
            }
        }
        if (ended.Count > 0)
        {
            outbox.Wake();
        }
        return ended.Count;
    }

    private async Task AnswerAsync(DbConnection connection, DbTransaction transaction, Ended message, CancellationToken cancellationToken)
    {
        if (await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE channel_messages SET status = '{ChannelMessageStatus.Answered}' WHERE id = @Id AND status = '{ChannelMessageStatus.Awaiting}'",
            message, transaction, cancellationToken: cancellationToken)) == 0)
        {
            return; // another control plane answered it first
        }
        var text = message.Status == "succeeded"
            ? string.IsNullOrWhiteSpace(message.Answer) ? null : message.Answer
            : $"(The agent could not answer: its run {message.RunId} ended {message.Status.Replace('_', ' ')}" +
              (message.ErrorCode is { } code ? $", {code}" : "") + ".)";
        if (text is null)
        {
            return; // an agent that chose to say nothing says nothing
        }
        await outbox.EnqueueAsync(connection, transaction, new ChannelOutbox.Outbound(message.WorkspaceId, message.Channel, ChannelActions.Send, message.Chat,
            message.Thread, text, null, null, message.RunId), time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Queuing channel answers failed; retrying")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Queuing the answer to channel message {MessageId} failed; retrying")]
    private static partial void LogAnswerFailed(ILogger logger, Exception exception, string messageId);
}
