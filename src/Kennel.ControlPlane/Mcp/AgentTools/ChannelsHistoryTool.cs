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
public static class ChannelsHistoryTool
{
    [McpServerTool(Name = "channels_history", Title = "Channel message history", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ChannelMessagePage))]
    [RequiresScope(Scopes.Read)]
    [Description("Kennel's own record of the messages in and out of the workspace's channels, newest first: text search, filters by " +
        "channel, chat, sender, direction (in or out) and time range, and paging. Outbound messages show whether they were sent, and the error if not.")]
    public static async Task<CallToolResult> Run(
        ChannelService channels,
        ClaimsPrincipal user,
        [Description("Words the text contains (case-insensitive)."), MaxLength(200)] string? query = null,
        [Description(ChannelToolText.ChannelDescription), MaxLength(ChannelToolText.MaxNameLength)] string? channel = null,
        [Description("The platform's id of the chat."), MaxLength(ChannelToolText.MaxIdLength)] string? chat = null,
        [Description("The platform's id of the sender."), MaxLength(ChannelToolText.MaxIdLength)] string? sender = null,
        [Description("in or out."), MaxLength(3)] string? direction = null,
        [Description("From this instant (ISO 8601)."), MaxLength(64)] string? since = null,
        [Description("Before this instant (ISO 8601)."), MaxLength(64)] string? until = null,
        [Description("Messages per page."), Range(1, ChannelService.MaxHistoryLimit)] int limit = ChannelService.DefaultHistoryLimit,
        [Description("nextCursor of the previous page."), MaxLength(64)] string? cursor = null,
        CancellationToken cancellationToken = default)
    {
        var page = await channels.HistoryAsync(Caller.From(user),
            ChannelEndpoints.Filter(channel, chat, sender, direction, query, since, until, limit, cursor), cancellationToken);
        var lines = page.Items.Select(ChannelToolText.MessageLine).ToList();
        if (lines.Count == 0)
        {
            lines.Add("No channel messages match.");
        }
        if (page.NextCursor is { } next)
        {
            lines.Add($"More: cursor {next}");
        }
        return ToolResults.Of(page, KennelJson.Default.ChannelMessagePage, string.Join('\n', lines));
    }
}
