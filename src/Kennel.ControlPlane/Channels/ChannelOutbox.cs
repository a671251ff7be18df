using System.Data.Common;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;

namespace Kennel.ControlPlane.Channels;

/// <summary>
/// Queues outbound acts inside the caller's transaction (an answer with its run's end, a cron run's result with its
/// record, a person's send on its own), so the act and what caused it commit together; <see cref="ChannelSender"/>
/// sends them. The platform's text limit is the platform's to enforce: Kennel keeps at most <see cref="MaxTextLength"/>.
/// </summary>
public sealed class ChannelOutbox(ChangeSignal signal, TimeProvider time)
{
    public const int MaxTextLength = 40_000;

    /// <summary>An act to queue: <paramref name="Action"/> is send, react or pin; <paramref name="RunId"/> the run it answers, if any.</summary>
    public sealed record Outbound(string WorkspaceId, string Channel, string Action, string Chat, string? Thread, string Text, string? TargetMessage,
        string? Emoji, string? RunId);

    /// <summary>
    /// Queues <paramref name="message"/>, due at once, under <paramref name="id"/> or a new id; returns the id. Call
    /// <see cref="Wake"/> after the commit.
    /// </summary>
    public async Task<string> EnqueueAsync(DbConnection connection, DbTransaction transaction, Outbound message, long now, CancellationToken cancellationToken,
        string? id = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        id ??= SortableId.New("chm", time);
        await ChannelStore.InsertAsync(connection, transaction, new ChannelMessageRow
        {
            Id = id,
            WorkspaceId = message.WorkspaceId,
            Channel = message.Channel,
            Direction = ChannelDirections.Out,
            Action = message.Action,
            Chat = message.Chat,
            Thread = message.Thread,
            Text = message.Text.Length > MaxTextLength ? message.Text[..MaxTextLength] : message.Text,
            TargetMessage = message.TargetMessage,
            Emoji = message.Emoji,
            RunId = message.RunId,
            Status = ChannelMessageStatus.Pending,
            NextAttemptAt = now,
            CreatedAt = now,
        }, cancellationToken);
        return id;
    }

    /// <summary>Tells this control plane's sender that something was committed; the others find it on their next look.</summary>
    public void Wake() => signal.PulseOutbox();
}
