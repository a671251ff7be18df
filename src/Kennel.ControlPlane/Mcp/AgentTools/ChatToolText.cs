using System.Globalization;
using System.Text;
using Kennel.Contracts.Conversations;

namespace Kennel.ControlPlane.Mcp.AgentTools;

/// <summary>What the chat and session tools share: their parameter texts, finding a session by id or key, and the readable renderings.</summary>
public static class ChatToolText
{
    public const string SessionDescription = "The session: its id (cnv_…) or its key, such as main. Omit for the agent's main session.";
    public const string AgentDescription = "The agent whose session key this is; main when omitted (agents_list shows them).";
    public const string RunIdDescription = "The run's id (run_…), as chat_send_async or chat_send returned it.";
    public const int MaxIdLength = 100;

    public static string Run(Run run)
    {
        var text = new StringBuilder();
        switch (run.Status)
        {
            case RunStatus.Succeeded:
                text.Append(run.Answer ?? "");
                break;
            case RunStatus.Queued or RunStatus.Running:
                text.Append(CultureInfo.InvariantCulture,
                    $"Run {run.Id} is still {run.Status.ToWire()}. Call chat_run_get with runId {run.Id} (and waitSeconds) for its answer.");
                break;
            default:
                text.Append(CultureInfo.InvariantCulture, $"Run {run.Id} {run.Status.ToWire()}");
                if (run.Error is { } error)
                {
                    text.Append(CultureInfo.InvariantCulture, $": {error.Code}: {error.Message}");
                }
                if (run.Answer is { Length: > 0 } partial)
                {
                    text.Append("\nPartial answer:\n").Append(partial);
                }
                break;
        }
        return text.ToString();
    }

    public static string RunLine(Run run) => string.Create(CultureInfo.InvariantCulture,
        $"{run.Id}  {run.Status.ToWire()}  session {run.ConversationId}  {run.Agent}  {run.CreatedAt:u}  {Shorten(run.Message, 60)}");

    public static string Conversation(Conversation conversation) => string.Create(CultureInfo.InvariantCulture,
        $"{conversation.Id}  key {conversation.Key ?? "-"}  agent {conversation.Agent}  label {conversation.Label ?? "-"}  " +
        $"thinking {conversation.Thinking ?? "default"}  tokens in {conversation.Usage.Input + conversation.Usage.CacheRead + conversation.Usage.CacheWrite} " +
        $"out {conversation.Usage.Output}  last activity {conversation.LastActivityAt:u}{(conversation.Archived == true ? "  (archived)" : "")}");

    public static string Entry(TranscriptEntry entry) => entry.Kind switch
    {
        TranscriptKinds.ToolCall => $"#{entry.Seq} tool call {entry.Tool} {entry.Arguments?.GetRawText()}",
        TranscriptKinds.ToolResult => $"#{entry.Seq} tool result{(entry.IsError == true ? " (error)" : "")}: {Shorten(entry.Text ?? "", 500)}",
        _ => $"#{entry.Seq} {entry.Kind}{(entry.Partial == true ? " (partial)" : "")}: {entry.Text}",
    };

    private static string Shorten(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max), "…");
}
