using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Channels;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Channels;
using Kennel.Mcp;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp.AgentTools;

[AgentTool]
public static class ChannelsActionTool
{
    [McpServerTool(Name = "channels_action", Title = "Act in a channel", ReadOnly = false, Destructive = false, Idempotent = false, OpenWorld = true,
        UseStructuredContent = true, OutputSchemaType = typeof(ChannelActionResult))]
    [RequiresScope(Scopes.Write)]
    [Description("Sends a message to a chat (in a thread if given), reacts to a message with an emoji, or pins a message, in a channel of " +
        "the workspace. Ids are the platform's own (Slack: channel id such as C0123 and message ts). Answers with the platform's message " +
        "id, or the platform's error; a send the platform rate-limits stays pending and is retried.")]
    public static async Task<CallToolResult> Run(
        ChannelService channels,
        ClaimsPrincipal user,
        [Description(ChannelToolText.ChannelDescription), MinLength(1), MaxLength(ChannelToolText.MaxNameLength)] string channel,
        [Description("send, react or pin.")] string action,
        [Description("The chat: the platform's id of the channel, group or conversation."), MinLength(1), MaxLength(ChannelToolText.MaxIdLength)] string chat,
        [Description("send: the text."), MaxLength(ChannelOutbox.MaxTextLength)] string? text = null,
        [Description("send: the thread to answer in (Slack: the parent message's ts; Telegram: the forum topic's message_thread_id)."), MaxLength(ChannelToolText.MaxIdLength)] string? thread = null,
        [Description("react and pin: the platform's id of the message (Slack: its ts; Telegram: its message_id). send: on Telegram, the message to reply to."), MaxLength(ChannelToolText.MaxIdLength)] string? message = null,
        [Description("react: the emoji's name, such as thumbsup (Telegram: the emoji itself, such as 👍)."), MaxLength(100)] string? emoji = null,
        CancellationToken cancellationToken = default)
    {
        var result = await channels.ActAsync(Caller.From(user), new ChannelActionRequest
        {
            Channel = channel,
            Action = action,
            Chat = chat,
            Text = text,
            Thread = thread,
            Message = message,
            Emoji = emoji,
        }, cancellationToken);
        return ToolResults.Of(result, KennelJson.Default.ChannelActionResult, ChannelToolText.ActionLine(result));
    }
}
