using System.CommandLine;
using System.Globalization;
using Kennel.Contracts;
using Kennel.Contracts.Channels;
using Kennel.ControlPlane.Channels;
using Kennel.ControlPlane.Mcp.AgentTools;

namespace Kennel.Cli;

/// <summary><c>kennel channels list|status|send|react|pin|history|register</c>: a workspace's messaging channels over <c>/v1/channels</c>.</summary>
public static class ChannelCommands
{
    public static Command Build()
    {
        var channels = new Command("channels", """
            Messaging channels: where people reach the workspace's agents (Slack, Telegram, a signed webhook).

              kennel config set channels.tg '{"kind": "telegram", "allow": ["123456789"], "botToken": "…", "secretToken": "…"}'
              kennel channels register tg --url https://kennel.example.com    point Telegram's webhook at Kennel
              kennel channels list                                            health and counts, one line each
              kennel channels status tg --probe                               the evidence, and the platform's answer now
              kennel channels send tg --to 123456789 "Deploy finished."       the platform's message id, or its error
              kennel channels history tg --query deploy                       Kennel's record of every message in and out
            Reading needs mcp:read; send, react, pin and register need mcp:write. docs/channels.md has the details.
            """);
        channels.Aliases.Add("channel");
        channels.Subcommands.Add(List());
        channels.Subcommands.Add(Status());
        channels.Subcommands.Add(Act(ChannelActions.Send));
        channels.Subcommands.Add(Act(ChannelActions.React));
        channels.Subcommands.Add(Act(ChannelActions.Pin));
        channels.Subcommands.Add(History());
        channels.Subcommands.Add(Register());
        return channels;
    }

    private static Argument<string> Name() => new("name") { Description = "The channel's name, as in the workspace config's channels section." };

    private static Command List()
    {
        var json = CliOptions.Json();
        var list = new Command("list", "List the channels: kind, agent, health, allow-list size and counts.") { json };
        list.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var channels = await client.GetAsync("v1/channels", KennelJson.Default.ChannelStatusList, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(channels, KennelJson.Default.ChannelStatusList);
                return ExitCodes.Ok;
            }
            var table = new Table("NAME", "KIND", "AGENT", "HEALTH", "ALLOWED", "RECEIVED", "IGNORED", "SENT", "FAILED", "PENDING", "LAST IN");
            foreach (var c in channels.Channels)
            {
                table.Add(c.Name, c.Kind, c.Agent, c.Health, Count(c.Allowed), Count(c.Received), Count(c.Ignored), Count(c.Sent), Count(c.Failed),
                    Count(c.Pending), CliOptions.Ago(c.LastInboundAt));
            }
            table.Write(Console.Out);
            if (channels.Channels.Count == 0)
            {
                Console.Out.WriteLine("No channels yet: kennel config set channels.NAME '{\"kind\": \"telegram\", …}' (docs/channels.md).");
            }
            return ExitCodes.Ok;
        });
        return list;
    }

    private static Command Status()
    {
        var name = new Argument<string?>("name") { Description = "Only this channel.", Arity = ArgumentArity.ZeroOrOne };
        var probe = new Option<bool>("--probe") { Description = "Also ask each platform, now, whether the channel's credentials work (auth.test, getMe)." };
        var json = CliOptions.Json();
        var status = new Command("status", """
            Show each channel's health with its evidence: what is missing, the last message in, the last send and the last
            error, the counts, and its registration with the platform. With --probe, each platform is asked there and then.
            """) { name, probe, json };
        status.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var all = await client.GetAsync("v1/channels" + (parse.GetValue(probe) ? "?probe=true" : ""), KennelJson.Default.ChannelStatusList, cancellationToken);
            var only = parse.GetValue(name);
            var shown = only is null ? all.Channels : [.. all.Channels.Where(c => c.Name == only)];
            if (only is not null && shown.Count == 0)
            {
                throw new CliException($"This workspace has no channel '{only}'; kennel channels list shows its channels.");
            }
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(new ChannelStatusList(shown), KennelJson.Default.ChannelStatusList);
                return ExitCodes.Ok;
            }
            foreach (var channel in shown)
            {
                Console.Out.WriteLine(ChannelToolText.StatusLine(channel));
                Console.Out.WriteLine($"  inbound: {channel.InboundPath}" + (channel.LastError is null ? "" : $"; last error: {channel.LastError}"));
            }
            return ExitCodes.Ok;
        });
        return status;
    }

    /// <summary><c>send NAME --to CHAT TEXT</c>, <c>react NAME --to CHAT --message ID EMOJI</c>, <c>pin NAME --to CHAT --message ID</c>.</summary>
    private static Command Act(string action)
    {
        var name = Name();
        var to = new Option<string>("--to") { Description = "The chat: the platform's id of the channel, group or person (Slack C…, Telegram chat id).", Required = true };
        var thread = new Option<string?>("--thread") { Description = "The thread to answer in (Slack: the parent's ts; Telegram: the forum topic's id)." };
        var message = new Option<string?>("--message")
        {
            Description = action == ChannelActions.Send ? "Telegram: the message to reply to." : "The platform's id of the message (Slack: its ts; Telegram: its message_id).",
            Required = action != ChannelActions.Send,
        };
        var value = new Argument<string>(action == ChannelActions.React ? "emoji" : "text")
        {
            Description = action == ChannelActions.React ? "The emoji (Slack: its name, such as thumbsup; Telegram: the emoji itself)." : "What to say.",
        };
        var json = CliOptions.Json();
        var command = new Command(action, action switch
        {
            ChannelActions.Send => "Send a message to a chat, through the outbox: prints the platform's message id, or its error (exit 1).",
            ChannelActions.React => "React to a message with an emoji.",
            _ => "Pin a message in its chat.",
        }) { name, to, message, json };
        if (action == ChannelActions.Send)
        {
            command.Options.Add(thread);
        }
        if (action != ChannelActions.Pin)
        {
            command.Arguments.Add(value);
        }
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var request = new ChannelActionRequest
            {
                Channel = parse.GetValue(name),
                Action = action,
                Chat = parse.GetValue(to),
                Thread = parse.GetValue(thread),
                Message = parse.GetValue(message),
                Text = action == ChannelActions.Send ? parse.GetValue(value) : null,
                Emoji = action == ChannelActions.React ? parse.GetValue(value) : null,
            };
            var result = await client.PostAsync("v1/channels/actions", KennelClient.Json(request, KennelJson.Default.ChannelActionRequest),
                KennelJson.Default.ChannelActionResult, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(result, KennelJson.Default.ChannelActionResult);
            }
            else
            {
                Console.Out.WriteLine(ChannelToolText.ActionLine(result).Replace("channels_history follows it.", "kennel channels history follows it.", StringComparison.Ordinal));
            }
            return result.Status == "failed" ? ExitCodes.Error : ExitCodes.Ok;
        });
        return command;
    }

    private static Command History()
    {
        var name = new Argument<string?>("name") { Description = "Only this channel; all channels when left out.", Arity = ArgumentArity.ZeroOrOne };
        var query = new Option<string?>("--query", "-q") { Description = "Text to search for in the messages (case-insensitive)." };
        var chat = new Option<string?>("--chat") { Description = "Only this chat." };
        var sender = new Option<string?>("--sender") { Description = "Only messages from this sender." };
        var direction = new Option<string?>("--direction") { Description = "in or out." };
        var since = new Option<string?>("--since") { Description = "Only messages at or after this time (ISO 8601)." };
        var until = new Option<string?>("--until") { Description = "Only messages before this time (ISO 8601)." };
        var limit = new Option<int?>("--limit") { Description = "At most this many (1-200, default 50)." };
        var cursor = new Option<string?>("--cursor") { Description = "The next page: the cursor a previous page printed." };
        var json = CliOptions.Json();
        var history = new Command("history", "Search Kennel's record of every message in and out of the channels, newest first.")
        {
            name, query, chat, sender, direction, since, until, limit, cursor, json,
        };
        history.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var path = "v1/channels/history" + CliOptions.Query(("channel", parse.GetValue(name)), ("q", parse.GetValue(query)), ("chat", parse.GetValue(chat)),
                ("sender", parse.GetValue(sender)), ("direction", parse.GetValue(direction)), ("since", parse.GetValue(since)), ("until", parse.GetValue(until)),
                ("limit", parse.GetValue(limit)?.ToString(CultureInfo.InvariantCulture)), ("cursor", parse.GetValue(cursor)));
            var page = await client.GetAsync(path, KennelJson.Default.ChannelMessagePage, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(page, KennelJson.Default.ChannelMessagePage);
                return ExitCodes.Ok;
            }
            foreach (var item in page.Items)
            {
                Console.Out.WriteLine(ChannelToolText.MessageLine(item) + (item.Error is null ? "" : $" [{item.Error}]"));
            }
            Console.Out.WriteLine(page.Items.Count == 0 ? "No messages match." : page.NextCursor is { } next ? $"More: --cursor {next}" : "");
            return ExitCodes.Ok;
        });
        return history;
    }

    private static Command Register()
    {
        var name = Name();
        var url = new Option<string?>("--url") { Description = "Kennel's public https:// base URL, where the platform will deliver; KENNEL_EXTERNAL_URL when left out." };
        var json = CliOptions.Json();
        var register = new Command("register", """
            Tell the channel's platform to deliver its events to the channel's inbound URL (Telegram: setWebhook, with the
            channel's secret token). Prints the platform's answer; a refusal exits 1 and shows in kennel channels status.
            Run it again after changing the bot token, the secret token, or Kennel's address.
            """) { name, url, json };
        register.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var result = await client.PostAsync($"v1/channels/{Uri.EscapeDataString(parse.GetValue(name)!)}/register",
                KennelClient.Json(new RegisterChannelRequest { Url = parse.GetValue(url) }, KennelJson.Default.RegisterChannelRequest),
                KennelJson.Default.ChannelRegistration, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(result, KennelJson.Default.ChannelRegistration);
            }
            else
            {
                Console.Out.WriteLine($"{(result.Ok ? "registered" : "refused")}: {result.Url}: {result.Detail}");
            }
            return result.Ok ? ExitCodes.Ok : ExitCodes.Error;
        });
        return register;
    }

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);
}
