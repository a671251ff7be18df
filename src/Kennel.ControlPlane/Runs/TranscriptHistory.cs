using System.Text.Json;
using Kennel.Agents.Runtime;
using Kennel.Contracts.Conversations;
using Kennel.ControlPlane.Conversations;
using Microsoft.Extensions.AI;

namespace Kennel.ControlPlane.Runs;

/// <summary>
/// Rebuilds what the model is sent from a transcript: the instructions, then each entry as the message it was. A tool
/// call of an earlier turn left without a result (its turn was stopped) gets one saying so, as every API requires; the
/// current run's calls without a result are returned as pending, for the loop to run.
/// </summary>
public static class TranscriptHistory
{
    public const string NoResult = "No result was recorded for this tool call.";

    public static (List<ChatMessage> History, List<PendingToolCall> Pending) Build(string instructions, IReadOnlyList<TranscriptRow> rows, string runId)
    {
        var messages = new List<ChatMessage> { new(ChatRole.System, instructions) };
        var open = new List<TranscriptRow>();
        ChatMessage? results = null;
        foreach (var row in rows)
        {
            switch (row.Kind)
            {
                case TranscriptKinds.ToolCall:
                    if (messages[^1].Role != ChatRole.Assistant || results is not null)
                    {
                        CloseOpen(messages, open, ref results);
                        messages.Add(new ChatMessage(ChatRole.Assistant, []));
                    }
                    messages[^1].Contents.Add(new FunctionCallContent(row.CallId!, row.Tool!, Arguments(row.Arguments)));
                    open.Add(row);
                    break;
                case TranscriptKinds.ToolResult:
                    var index = open.FindIndex(call => call.CallId == row.CallId);
                    if (index < 0)
                    {
                        break; // a result whose call is not in view: nothing to pair it with
                    }
                    open.RemoveAt(index);
                    results ??= Add(messages, new ChatMessage(ChatRole.Tool, []));
                    results.Contents.Add(new FunctionResultContent(row.CallId!, row.Text ?? ""));
                    break;
                default:
                    CloseOpen(messages, open, ref results);
                    messages.Add(new ChatMessage(row.Kind == TranscriptKinds.User ? ChatRole.User : ChatRole.Assistant, row.Text ?? ""));
                    break;
            }
        }
        var pending = open.Where(call => call.RunId == runId)
            .Select(call => new PendingToolCall(call.CallId!, call.Tool!, Element(call.Arguments), call.SessionId ?? "")).ToList();
        if (pending.Count != open.Count)
        {
            CloseOpen(messages, [.. open.Where(call => call.RunId != runId)], ref results);
        }
        return (messages, pending);
    }

    private static void CloseOpen(List<ChatMessage> messages, List<TranscriptRow> open, ref ChatMessage? results)
    {
        if (open.Count > 0)
        {
            results ??= Add(messages, new ChatMessage(ChatRole.Tool, []));
            foreach (var call in open)
            {
                results.Contents.Add(new FunctionResultContent(call.CallId!, NoResult));
            }
            open.Clear();
        }
        results = null;
    }

    private static ChatMessage Add(List<ChatMessage> messages, ChatMessage message)
    {
        messages.Add(message);
        return message;
    }

    private static JsonElement Element(string? json) => JsonDocument.Parse(json ?? "{}").RootElement.Clone();

    private static Dictionary<string, object?> Arguments(string? json)
    {
        var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (Element(json) is { ValueKind: JsonValueKind.Object } element)
        {
            foreach (var property in element.EnumerateObject())
            {
                arguments[property.Name] = property.Value;
            }
        }
        return arguments;
    }
}
