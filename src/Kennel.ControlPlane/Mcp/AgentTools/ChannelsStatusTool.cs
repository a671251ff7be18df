using System.ComponentModel;
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
public static class ChannelsStatusTool
{
    [McpServerTool(Name = "channels_status", Title = "Channels' status", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ChannelStatusList))]
    [RequiresScope(Scopes.Read)]
    [Description("Each messaging channel of the workspace: what is configured and what is missing, its health read from evidence only " +
        "(not_configured, no_traffic, failing, ok) with the evidence, the last message received, the last send that succeeded, the last " +
        "error, and the counts received, ignored (senders not allowed), sent, failed and pending. With probe, each platform is also asked " +
        "now whether the channel's credentials work (Slack: auth.test; Telegram: getMe), and its real answer is shown.")]
    public static async Task<CallToolResult> Run(
        ChannelService channels,
        ClaimsPrincipal user,
        [Description("Also ask each platform now whether the credentials work.")] bool probe = false,
        CancellationToken cancellationToken = default)
    {
        var list = await channels.StatusAsync(Caller.From(user), probe, cancellationToken);
        var text = list.Channels.Count == 0
            ? "No channels are configured (the workspace config's channels section is empty)."
            : string.Join('\n', list.Channels.Select(ChannelToolText.StatusLine));
        return ToolResults.Of(list, KennelJson.Default.ChannelStatusList, text);
    }
}
