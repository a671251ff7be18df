using System.Text.Json;
using Kennel.Agents.Runtime;
using Kennel.Contracts.Channels;
using Kennel.ControlPlane.Channels;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Agents.Tools;

/// <summary>
/// <c>message</c>: sends a message to a chat of one of the workspace's channels, through the channels' outbox (retried on
/// 429 and 5xx, recorded in the history). The call's reserved id is the message's id, so a resumed run finds the send
/// it made instead of sending it twice. An agent has it only when its config lists it in <c>tools</c>.
/// </summary>
public sealed class MessageTool(ChannelService channels) : IAgentTool
{
    public string Name => "message";

    public string Description => "Send a message to a chat of one of this workspace's messaging channels (by the channel's name and the platform's chat id).";

    public JsonElement Schema { get; } = JsonDocument.Parse($$$"""
        {"type":"object","properties":{"channel":{"type":"string","maxLength":32},"chat":{"type":"string","maxLength":{{{ChannelService.MaxIdLength}}}},
        "text":{"type":"string","maxLength":{{{ChannelOutbox.MaxTextLength}}}},"thread":{"type":"string","maxLength":{{{ChannelService.MaxIdLength}}}}},
        "required":["channel","chat","text"],"additionalProperties":false}
        """).RootElement.Clone();

    public async Task<ToolOutput> InvokeAsync(ToolInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var arguments = invocation.Arguments;
        if (arguments.ValueKind != JsonValueKind.Object)
        {
            return ToolOutput.Error("message needs \"channel\", \"chat\" and \"text\".");
        }
        var request = new ChannelActionRequest
        {
            Channel = Text(arguments, "channel"),
            Action = ChannelActions.Send,
            Chat = Text(arguments, "chat"),
            Text = Text(arguments, "text"),
            Thread = Text(arguments, "thread"),
        };
        ChannelActionResult result;
        try
        {
            result = await channels.ActAsync(invocation.WorkspaceId, request, MessageId(invocation.ReservedId), cancellationToken);
        }
        catch (ApiProblem refused)
        {
            return ToolOutput.Error($"The message was not sent: {refused.Detail ?? refused.Message}");
        }
        return result.Status switch
        {
            ChannelMessageStatus.Sent => new ToolOutput($"sent (id {result.Id}; the platform's id {result.PlatformMessageId ?? "none"})"),
            ChannelMessageStatus.Failed => ToolOutput.Error($"failed: {result.Error}"),
            _ => new ToolOutput($"queued (id {result.Id}); it is retried in the background{(result.Error is null ? "" : $" after: {result.Error}")}"),
        };
    }

    /// <summary>The message's id from the call's reserved id (<c>ses_…</c>): the same sortable id under the messages' prefix.</summary>
    private static string? MessageId(string reserved)
    {
        var separator = reserved.IndexOf('_', StringComparison.Ordinal);
        return separator > 0 ? "chm" + reserved[separator..] : null;
    }

    private static string? Text(JsonElement arguments, string name) =>
        arguments.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
