using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Conversations;

namespace Kennel.Cli;

/// <summary><c>kennel chat</c>, which streams an agent's answer, and <c>kennel conversation</c>, which manages conversations.</summary>
public static class ChatCommands
{
    public static Command BuildChat()
    {
        var message = new Argument<string>("message") { Description = "What to say to the agent." };
        var agent = new Option<string>("--agent") { Description = "The agent to talk to (default main)." };
        var conversation = new Option<string>("--conversation")
        {
            Description = "A conversation id (cnv_...) or key; a new key starts a conversation. Default: the agent's main.",
        };
        var json = CliOptions.Json();
        var chat = new Command("chat", """
            Send a message to an agent and stream its answer as it arrives (tool calls are shown on stderr). Needs mcp:chat.
              kennel chat "what is in /etc/os-release?"
              kennel chat --conversation ticket-42 "summarise what we found"
            """) { message, agent, conversation, json };
        chat.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var target = Uri.EscapeDataString(parse.GetValue(conversation) ?? "main");
            var query = CliOptions.Query(("agent", parse.GetValue(agent)));
            var body = KennelClient.Json(new SendMessageRequest { Message = parse.GetValue(message)! }, KennelJson.Default.SendMessageRequest);
            Run? final = null;
            var streamed = false;
            await foreach (var (kind, data) in client.EventsAsync(HttpMethod.Post, $"v1/conversations/{target}/messages{query}", body, cancellationToken))
            {
                if (kind == "run")
                {
                    final = JsonSerializer.Deserialize(data, KennelJson.Default.Run);
                    continue;
                }
                var progress = JsonSerializer.Deserialize(data, KennelJson.Default.RunEvent)!;
                if (parse.GetValue(json))
                {
                    continue;
                }
                switch (progress.Kind)
                {
                    case RunEventKinds.Text:
                        Console.Out.Write(progress.Text);
                        streamed = true;
                        break;
                    case RunEventKinds.ToolStart:
                        await Console.Error.WriteLineAsync($"[{progress.Tool} …]");
                        break;
                    case RunEventKinds.ToolEnd:
                        await Console.Error.WriteLineAsync($"[{progress.Tool} {(progress.IsError == true ? "failed" : "done")}]");
                        break;
                }
            }
            if (final is null)
            {
                throw new CliException("The answer stream ended before the run did.");
            }
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(final, KennelJson.Default.Run);
            }
            else if (!streamed && final.Answer is { } answer)
            {
                Console.Out.Write(answer); // run on another control plane: its progress was not streamed here
            }
            if (!parse.GetValue(json))
            {
                Console.Out.WriteLine();
            }
            return final.Status switch
            {
                RunStatus.Succeeded => ExitCodes.Ok,
                _ => throw new CliException($"The run {final.Id} ended {final.Status.ToWire()}: {final.Error?.Message} [{final.Error?.Code}]"),
            };
        });
        return chat;
    }

    public static Command BuildConversation()
    {
        var command = new Command("conversation", "Conversations with agents: list, show, history, rename, delete.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(History());
        command.Subcommands.Add(Rename());
        command.Subcommands.Add(Delete());
        return command;
    }

    private static Command List()
    {
        var agent = new Option<string>("--agent") { Description = "Only this agent's conversations." };
        var label = new Option<string>("--label") { Description = "Only conversations with this label." };
        var limit = new Option<int?>("--limit") { Description = "At most this many (1-50, default 20)." };
        var cursor = new Option<string>("--cursor") { Description = "The next page: the cursor a previous page printed." };
        var json = CliOptions.Json();
        var list = new Command("list", "List conversations, newest activity first. Needs mcp:read.") { agent, label, limit, cursor, json };
        list.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var query = CliOptions.Query(("agent", parse.GetValue(agent)), ("label", parse.GetValue(label)),
                ("limit", parse.GetValue(limit)?.ToString(CultureInfo.InvariantCulture)), ("cursor", parse.GetValue(cursor)));
            var page = await client.GetAsync($"v1/conversations{query}", KennelJson.Default.ConversationPage, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(page, KennelJson.Default.ConversationPage);
                return ExitCodes.Ok;
            }
            var table = new Table("ID", "KEY", "AGENT", "LABEL", "TOKENS", "ACTIVE");
            foreach (var item in page.Items)
            {
                table.Add(item.Id, item.Key ?? "-", item.Agent, item.Label ?? "-",
                    (item.Usage.Input + item.Usage.Output + item.Usage.CacheRead + item.Usage.CacheWrite).ToString(CultureInfo.InvariantCulture),
                    CliOptions.Ago(item.LastActivityAt));
            }
            table.Write(Console.Out);
            if (page.NextCursor is { } next)
            {
                Console.Out.WriteLine($"More: kennel conversation list --cursor {next}");
            }
            return ExitCodes.Ok;
        });
        return list;
    }

    private static Command Show()
    {
        var id = Id();
        var show = new Command("show", "Show a conversation: agent, label, thinking level and token usage. Needs mcp:read.") { id };
        show.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            CliOptions.PrintJson(await client.GetAsync($"v1/conversations/{Uri.EscapeDataString(parse.GetValue(id)!)}",
                KennelJson.Default.Conversation, cancellationToken), KennelJson.Default.Conversation);
            return ExitCodes.Ok;
        });
        return show;
    }

    private static Command History()
    {
        var id = Id();
        var limit = new Option<int?>("--limit") { Description = "At most this many entries (1-200, default 50)." };
        var offset = new Option<int?>("--offset") { Description = "Skip this many entries from the start." };
        var json = CliOptions.Json();
        var history = new Command("history", "Print a conversation's transcript as stored, oldest first. Needs mcp:read.") { id, limit, offset, json };
        history.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var query = CliOptions.Query(("limit", parse.GetValue(limit)?.ToString(CultureInfo.InvariantCulture)),
                ("offset", parse.GetValue(offset)?.ToString(CultureInfo.InvariantCulture)));
            var page = await client.GetAsync($"v1/conversations/{Uri.EscapeDataString(parse.GetValue(id)!)}/messages{query}",
                KennelJson.Default.TranscriptPage, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(page, KennelJson.Default.TranscriptPage);
                return ExitCodes.Ok;
            }
            foreach (var entry in page.Items)
            {
                var text = entry.Kind switch
                {
                    TranscriptKinds.ToolCall => $"{entry.Tool} {entry.Arguments?.GetRawText()}",
                    _ => entry.Text,
                };
                Console.Out.WriteLine($"#{entry.Seq} {entry.Kind}{(entry.Partial == true ? " (partial)" : "")}: {text}");
            }
            return ExitCodes.Ok;
        });
        return history;
    }

    private static Command Rename()
    {
        var id = Id();
        var label = new Argument<string>("label") { Description = "The new label (empty to clear it)." };
        var rename = new Command("rename", "Set a conversation's label. Needs mcp:write.") { id, label };
        rename.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var updated = await client.PatchAsync($"v1/conversations/{Uri.EscapeDataString(parse.GetValue(id)!)}",
                KennelClient.Json(new UpdateConversationRequest { Label = parse.GetValue(label) }, KennelJson.Default.UpdateConversationRequest),
                KennelJson.Default.Conversation, cancellationToken);
            Console.Out.WriteLine($"{updated.Id} is now labelled '{updated.Label}'.");
            return ExitCodes.Ok;
        });
        return rename;
    }

    private static Command Delete()
    {
        var id = Id();
        var transcript = new Option<bool>("--transcript") { Description = "Delete the transcript too; without it the conversation is archived (kept, hidden)." };
        var delete = new Command("delete", "Delete a conversation. Its model calls stay in the usage ledger. Needs mcp:write.") { id, transcript };
        delete.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var conversationId = parse.GetValue(id)!;
            var deleteTranscript = parse.GetValue(transcript);
            await client.DeleteAsync($"v1/conversations/{Uri.EscapeDataString(conversationId)}?deleteTranscript={(deleteTranscript ? "true" : "false")}",
                cancellationToken);
            Console.Out.WriteLine(deleteTranscript ? $"Deleted {conversationId} and its transcript." : $"Archived {conversationId}; its transcript is kept.");
            return ExitCodes.Ok;
        });
        return delete;
    }

    private static Argument<string> Id() => new("id") { Description = "The conversation id (cnv_...)." };
}
