using Kennel.Contracts.Conversations;

namespace Kennel.ControlPlane.Conversations;

/// <summary>A <c>conversations</c> row as the store reads it.</summary>
public sealed class ConversationRow
{
    public string Id { get; set; } = "";
    public string WorkspaceId { get; set; } = "";
    public string? ConversationKey { get; set; }
    public string Agent { get; set; } = "";
    public string? Label { get; set; }
    public string? Thinking { get; set; }
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    public long CacheReadTokens { get; set; }
    public long CacheWriteTokens { get; set; }
    public long CreatedAt { get; set; }
    public long LastActivityAt { get; set; }
    public long Archived { get; set; }

    public Conversation ToContract() => new()
    {
        Id = Id,
        Key = ConversationKey,
        Agent = Agent,
        Label = Label,
        Thinking = Thinking,
        Usage = new TokenTotals(InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
        LastActivityAt = DateTimeOffset.FromUnixTimeMilliseconds(LastActivityAt),
        Archived = Archived != 0 ? true : null,
    };
}

/// <summary>A <c>transcript_entries</c> row as the store reads it.</summary>
public sealed class TranscriptRow
{
    public string ConversationId { get; set; } = "";
    public long Seq { get; set; }
    public string? RunId { get; set; }
    public string Kind { get; set; } = "";
    public long At { get; set; }
    public string? Text { get; set; }
    public string? CallId { get; set; }
    public string? Tool { get; set; }
    public string? Arguments { get; set; }
    public string? SessionId { get; set; }
    public long IsError { get; set; }
    public long Partial { get; set; }
    public long Truncated { get; set; }

    public TranscriptEntry ToContract() => new()
    {
        Seq = Seq,
        Kind = Kind,
        RunId = RunId,
        At = DateTimeOffset.FromUnixTimeMilliseconds(At),
        Text = Text,
        CallId = CallId,
        Tool = Tool,
        Arguments = Arguments is null ? null : System.Text.Json.JsonDocument.Parse(Arguments).RootElement.Clone(),
        SessionId = SessionId,
        IsError = IsError != 0 ? true : null,
        Partial = Partial != 0 ? true : null,
        Truncated = Truncated != 0 ? true : null,
    };
}
