using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Kennel.Contracts.Channels;
using Kennel.Contracts.Conversations;
using Kennel.ControlPlane.Agents;
using Kennel.ControlPlane.Config;
using Kennel.ControlPlane.Conversations;
using Kennel.ControlPlane.Daemons;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Runs;
using Kennel.ControlPlane.Secrets;
using Kennel.ControlPlane.Sessions;
using Kennel.ControlPlane.Workspaces;
using Kennel.Store;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Channels;

/// <summary>
/// A channel's inbound URL (<c>/v1/channel-events/{workspace}/{channel}</c>): finds the channel in that workspace's
/// config, has its platform check the signature before anything else is revealed, and turns a message from an allowed
/// sender into a run of the channel's agent, in the conversation of its chat (or thread). The event's id is taken in the
/// transaction that queues the run, so a retried delivery is a no-op. A sender not on the allow-list is ignored and
/// counted; nothing of their message is kept.
/// </summary>
/// <remarks>
/// A URL with no channel behind it (no such workspace or channel, an unknown kind, no signing secret) is answered as a
/// bad signature is, after an HMAC under a decoy secret, so the answer does not tell whether a channel exists.
/// </remarks>
public sealed partial class ChannelReceiver(
    Database database, ChannelStore store, WorkspaceStore workspaces, ConfigService config, SecretService secrets, AgentService agents, ChannelAdapters adapters,
    ChangeSignal signal, TimeProvider time, ILogger<ChannelReceiver> logger)
{
    public const string Received = "queued";
    public const string Duplicate = "duplicate";
    public const string Ignored = "ignored";
    public const string Skipped = "skipped";

    private static readonly string DecoySecret = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));

    /// <summary>What the platform is answered: a receipt, or a handshake's own JSON.</summary>
    public sealed record Answer(ChannelReceipt? Receipt, string? HandshakeJson);

    public async Task<Answer> ReceiveAsync(string workspaceName, string channelName, Func<string, string?> headers, byte[] body,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var workspace = WorkspaceName.IsValid(workspaceName) ? await workspaces.FindByNameAsync(workspaceName, cancellationToken) : null;
        var channel = workspace is null ? null : ChannelConfig.Find(await config.DocumentAsync(workspace.Id, cancellationToken), channelName);
        var adapter = channel is null ? null : adapters.Find(channel.Kind);
        if (workspace is null || channel is null || adapter is null)
        {
            WebhookSignature.Check(WebhookSignature.SlackV0, DecoySecret, "X-Decoy", headers, body, now);
            throw Refused();
        }
        var values = await ChannelSecrets.ResolveAsync(secrets, workspace.Id, channel, cancellationToken);
        var inbound = adapter.Receive(new InboundRequest(channel, values, headers, body, now));
        switch (inbound)
        {
            case InboundEvent.Refused refused:
                LogRefused(logger, workspaceName, channelName, refused.Reason);
                throw Refused();
            case InboundEvent.Handshake handshake:
                return new Answer(null, handshake.Json);
            case InboundEvent.Skipped:
                return new Answer(new ChannelReceipt(Skipped), null);
        }
        return new Answer(await AcceptAsync(workspace.Id, channel, (InboundEvent.Message)inbound, cancellationToken), null);
    }

    /// <summary>
    /// A message the platform has vouched for (a verified request, or the Discord Gateway's session): ignored and counted
    /// when its sender is not allowed, else taken once and answered by a run of the channel's agent.
    /// </summary>
    public async Task<ChannelReceipt> AcceptAsync(string workspaceId, ChannelConfig channel, InboundEvent.Message message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(message);
        var at = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (!channel.Allows(message.Sender, message.Chat))
        {
            await store.CountAsync(workspaceId, channel.Name, ChannelStore.Counter.Ignored, Shorten(message.Sender ?? message.Chat), at, cancellationToken);
            return new ChannelReceipt(Ignored);
        }
        if ((await agents.DirectoryAsync(workspaceId, cancellationToken)).FindAgent(channel.Agent) is null)
        {
            await store.CountAsync(workspaceId, channel.Name, ChannelStore.Counter.Failed,
                $"A message arrived, but the channel's agent '{channel.Agent}' does not exist; it was not answered.", at, cancellationToken);
            return new ChannelReceipt(Skipped);
        }
        var runId = await database.WriteAsync((connection, transaction) =>
            QueueAsync(connection, transaction, workspaceId, channel, message, at, cancellationToken), cancellationToken);
        if (runId is null)
        {
            return new ChannelReceipt(Duplicate);
        }
        signal.PulseRunQueue();
        return new ChannelReceipt(Received, runId);
    }

    /// <summary>Takes the event and queues its run, or does nothing for an event taken before; the run's id, or null.</summary>
    private async Task<string?> QueueAsync(DbConnection connection, DbTransaction transaction, string workspaceId, ChannelConfig channel,
        InboundEvent.Message message, long now, CancellationToken cancellationToken)
    {
        if (!await ChannelStore.TakeEventAsync(connection, transaction, workspaceId, channel.Name, message.EventId, now, cancellationToken))
        {
            return null;
        }
        var key = ConversationKey(channel.Name, message.Chat, message.Thread);
        var conversation = await ConversationStore.FindByKeyAsync(connection, transaction, workspaceId, channel.Agent, key, cancellationToken);
        if (conversation is null)
        {
            conversation = new ConversationRow
            {
                Id = SortableId.New("cnv", time),
                WorkspaceId = workspaceId,
                ConversationKey = key,
                Agent = channel.Agent,
                Label = Shorten($"{channel.Kind} {channel.Name}: {message.Chat}" + (message.Thread is null ? "" : $" thread {message.Thread}")),
                CreatedAt = now,
                LastActivityAt = now,
            };
            await ConversationStore.InsertAsync(connection, transaction, conversation, cancellationToken);
        }
        var text = message.Text.Length > ConversationValidator.MaxMessageLength ? message.Text[..ConversationValidator.MaxMessageLength] : message.Text;
        var run = new RunRow
        {
            Id = SortableId.New("run", time),
            WorkspaceId = workspaceId,
            ConversationId = conversation.Id,
            Agent = channel.Agent,
            Status = RunStatus.Queued.ToWire(),
            Message = text,
            CreatedAt = now,
        };
        await RunStore.InsertAsync(connection, transaction, run, cancellationToken);
        await ChannelStore.InsertAsync(connection, transaction, new ChannelMessageRow
        {
            Id = SortableId.New("chm", time),
            WorkspaceId = workspaceId,
            Channel = channel.Name,
            Direction = ChannelDirections.In,
            Action = ChannelActions.Inbound,
            Chat = message.Chat,
            Thread = message.Thread,
            Sender = message.Sender,
            Text = text,
            PlatformMessageId = message.MessageId,
            RunId = run.Id,
            Status = ChannelMessageStatus.Awaiting,
            CreatedAt = now,
        }, cancellationToken);
        await ChannelStore.CountAsync(connection, transaction, workspaceId, channel.Name, ChannelStore.Counter.Received, now, null, cancellationToken);
        return run.Id;
    }

    /// <summary>
    /// The conversation of a chat (or thread): <c>{channel}:{chat}[:{thread}]</c> when that is a valid key, else the
    /// channel and a hash of the chat and thread, so any platform id fits.
    /// </summary>
    public static string ConversationKey(string channel, string chat, string? thread)
    {
        var plain = thread is null ? $"{channel}:{chat}" : $"{channel}:{chat}:{thread}";
        if (plain.Length <= ConversationValidator.MaxKeyLength && plain.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
        {
            return plain;
        }
        return $"{channel}:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{chat}\n{thread}")))[..24];
    }

    private static string Shorten(string value) => value.Length <= 200 ? value : value[..200];

    /// <summary>The one answer to every request refused before a valid signature.</summary>
    private static ApiProblem Refused() => new(StatusCodes.Status401Unauthorized, "signature_invalid", "The channel event's signature does not verify.",
        "No channel at this URL accepts this request: check the URL, and that the platform signs with the channel's signing secret. " +
        "Which of these failed is not said, so that channel names cannot be probed.");

    [LoggerMessage(Level = LogLevel.Information, Message = "An event for workspace {Workspace}, channel {Channel}, was refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string workspace, string channel, string reason);
}
