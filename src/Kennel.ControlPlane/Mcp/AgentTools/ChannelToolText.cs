using System.Globalization;
using Kennel.Contracts.Channels;

namespace Kennel.ControlPlane.Mcp.AgentTools;

/// <summary>The text the channel tools answer with beside their structured content.</summary>
public static class ChannelToolText
{
    public const string ChannelDescription = "A channel's name, as in the workspace config's channels section (channels_status lists them).";
    public const int MaxNameLength = 32;
    public const int MaxIdLength = 256;

    public static string StatusLine(ChannelStatus status) => string.Concat(
        $"{status.Name} ({status.Kind}, agent {status.Agent}): {status.Health}. {status.Evidence} ",
        $"Received {status.Received} (last {Time(status.LastInboundAt)}), ignored {status.Ignored}, sent {status.Sent} (last {Time(status.LastSentAt)}), ",
        $"failed {status.Failed}, pending {status.Pending}.",
        status.Probe is { } probe ? $" Probe: {(probe.Ok ? "ok" : "failed")}, {probe.Detail}" : "",
        status.Registration is { } registered
            ? $" Registered {Time(registered.At)} at {registered.Url}: {(registered.Ok ? "accepted" : "refused")}, {registered.Detail}"
            : "");

    public static string ActionLine(ChannelActionResult result) => result.Status switch
    {
        "sent" => $"Sent ({result.Id}); the platform's id: {result.PlatformMessageId ?? "none"}.",
        "failed" => $"Failed ({result.Id}) after {result.Attempts} attempt(s): {result.Error}",
        _ => $"Pending ({result.Id}), after {result.Attempts} attempt(s){(result.Error is null ? "" : $"; the last error: {result.Error}")}. channels_history follows it.",
    };

    public static string MessageLine(ChannelMessage message) => string.Concat(
        $"{message.CreatedAt.ToString("u", CultureInfo.InvariantCulture)} {message.Channel} {message.Chat}",
        message.Thread is null ? "" : $" thread {message.Thread}",
        message.Direction == "in" ? $" from {message.Sender ?? "?"}: " : $" {message.Action} ({message.Status}): ",
        message.Text.Length > 200 ? message.Text[..200] + "…" : message.Text);

    private static string Time(DateTimeOffset? at) => at is { } value ? value.ToString("u", CultureInfo.InvariantCulture) : "never";
}
