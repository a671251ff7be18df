using System.Text.Json.Nodes;

namespace Kennel.ControlPlane.Channels.Discord;

/// <summary>
/// The Gateway's wire format (v10, JSON encoding), as pure functions: the payloads Kennel sends (Identify with its
/// intents, Resume, Heartbeat), what a close code allows next, and what a <c>MESSAGE_CREATE</c> is for the agent.
/// </summary>
public static class DiscordGatewayProtocol
{
    public const int Dispatch = 0;
    public const int Heartbeat = 1;
    public const int Identify = 2;
    public const int Resume = 6;
    public const int Reconnect = 7;
    public const int InvalidSession = 9;
    public const int Hello = 10;
    public const int HeartbeatAck = 11;

    public const int GuildMessages = 1 << 9;
    public const int DirectMessages = 1 << 12;
    public const int MessageContent = 1 << 15;

    /// <summary>Messages in servers and in DMs, with their text (MESSAGE_CONTENT is privileged: enable it in the Developer Portal).</summary>
    public const int Intents = GuildMessages | DirectMessages | MessageContent;

    /// <summary>What a session's end allows next.</summary>
    public enum AfterEnd
    {
        /// <summary>Connect again and Resume the session (with its id and the last sequence number).</summary>
        Resume,

        /// <summary>Connect again and Identify anew: the session is gone.</summary>
        Identify,

        /// <summary>Do not connect again: the configuration is wrong, and only a person can fix it.</summary>
        Stop,
    }

    /// <summary>The connection URL: the gateway's URL with the version and encoding.</summary>
    public static Uri ConnectUrl(string gatewayUrl) => new UriBuilder(gatewayUrl) { Query = "v=10&encoding=json" }.Uri;

    public static string IdentifyPayload(string token) => new JsonObject
    {
        ["op"] = Identify,
        ["d"] = new JsonObject
        {
            ["token"] = token,
            ["intents"] = Intents,
            ["properties"] = new JsonObject { ["os"] = "linux", ["browser"] = "kennel", ["device"] = "kennel" },
        },
    }.ToJsonString();

    public static string ResumePayload(string token, string sessionId, long? sequence) => new JsonObject
    {
        ["op"] = Resume,
        ["d"] = new JsonObject { ["token"] = token, ["session_id"] = sessionId, ["seq"] = sequence },
    }.ToJsonString();

    public static string HeartbeatPayload(long? sequence) => new JsonObject { ["op"] = Heartbeat, ["d"] = sequence }.ToJsonString();

    /// <summary>
    /// What a close code from Discord allows: the codes of a configuration only a person can fix stop the channel
    /// (with why), an invalid sequence or a timed-out session start anew, anything else resumes.
    /// </summary>
    public static (AfterEnd Then, string? Why) AfterClose(int? code) => code switch
    {
        4004 => (AfterEnd.Stop, "4004 Authentication failed: the bot token is wrong or was reset; set channels.NAME.botToken again"),
        4010 => (AfterEnd.Stop, "4010 Invalid shard"),
        4011 => (AfterEnd.Stop, "4011 Sharding required: the bot is in too many servers for one connection"),
        4012 => (AfterEnd.Stop, "4012 Invalid API version"),
        4013 => (AfterEnd.Stop, "4013 Invalid intents"),
        4014 => (AfterEnd.Stop, "4014 Disallowed intents: enable the Message Content intent for the bot in the Developer Portal"),
        4007 or 4009 => (AfterEnd.Identify, null),
        _ => (AfterEnd.Resume, null),
    };

    /// <summary>
    /// A <c>MESSAGE_CREATE</c>'s data as an inbound message: the message id is the event id (a replay after a Resume
    /// carries the same id), the chat is the channel id (a thread is a channel of its own, so it has its own
    /// conversation), and a bot's message (Kennel's own answers among them) or an empty one is skipped.
    /// </summary>
    public static InboundEvent Message(JsonObject? data, string? botUserId)
    {
        var author = data?["author"] as JsonObject;
        var id = DiscordChannel.Text(data, "id");
        var chat = DiscordChannel.Text(data, "channel_id");
        if (id is null || chat is null || author is null)
        {
            return new InboundEvent.Skipped("Not a message with an id, a channel and an author.");
        }
        var sender = DiscordChannel.Text(author, "id");
        if (sender == botUserId || (author["bot"] is JsonValue bot && bot.TryGetValue<bool>(out var isBot) && isBot))
        {
            return new InboundEvent.Skipped("A bot's message: only people's messages reach the agent.");
        }
        return DiscordChannel.Text(data, "content") is { } text
            ? new InboundEvent.Message(id, chat, null, sender, text, id)
            : new InboundEvent.Skipped("No text (an attachment only, or the Message Content intent is off).");
    }
}
