namespace Kennel.Contracts.Conversations;

/// <summary>The body of <c>POST /v1/conversations</c>. Every field is optional: the agent defaults to <c>main</c>.</summary>
public sealed record CreateConversationRequest
{
    public string? Agent { get; init; }

    /// <summary>A name such as <c>main</c>, unique per agent, by which the conversation can be found again.</summary>
    public string? Key { get; init; }

    public string? Label { get; init; }

    /// <summary><c>off</c>, <c>minimal</c>, <c>low</c>, <c>medium</c> or <c>high</c>; absent follows the agent's default.</summary>
    public string? Thinking { get; init; }
}

/// <summary>The body of <c>PATCH /v1/conversations/{id}</c>: what is given changes, what is absent stays.</summary>
public sealed record UpdateConversationRequest
{
    public string? Label { get; init; }
    public string? Thinking { get; init; }
}

/// <summary>Tokens of a conversation or a run, summed over its model calls.</summary>
public sealed record TokenTotals(long Input, long Output, long CacheRead, long CacheWrite);

/// <summary>A conversation as every API shows it. Its transcript is read separately, a page at a time.</summary>
public sealed record Conversation
{
    public required string Id { get; init; }
    public string? Key { get; init; }
    public required string Agent { get; init; }
    public string? Label { get; init; }
    public string? Thinking { get; init; }
    public required TokenTotals Usage { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset LastActivityAt { get; init; }

    /// <summary>True once deleted without its transcript: hidden from the list, kept with its transcript.</summary>
    public bool? Archived { get; init; }
}

public sealed record ConversationPage(IReadOnlyList<Conversation> Items, string? NextCursor);

/// <summary>What <c>DELETE /v1/conversations/{id}</c> did: archived (kept) or deleted with its transcript.</summary>
public sealed record DeletedConversation(string Id, bool TranscriptDeleted);

/// <summary>The kinds of transcript entry.</summary>
public static class TranscriptKinds
{
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string ToolCall = "tool_call";
    public const string ToolResult = "tool_result";
}

/// <summary>One step of a transcript, as stored: committed once when it completed, never changed.</summary>
public sealed record TranscriptEntry
{
    public required long Seq { get; init; }

    /// <summary><c>user</c>, <c>assistant</c>, <c>tool_call</c> or <c>tool_result</c>.</summary>
    public required string Kind { get; init; }

    public string? RunId { get; init; }
    public required DateTimeOffset At { get; init; }

    /// <summary>The message's text (user, assistant) or the tool's output (tool_result).</summary>
    public string? Text { get; init; }

    public string? CallId { get; init; }
    public string? Tool { get; init; }

    /// <summary>A tool call's arguments as the model gave them (JSON).</summary>
    public System.Text.Json.JsonElement? Arguments { get; init; }

    /// <summary>The sandbox session a tool call ran in, when it ran in one.</summary>
    public string? SessionId { get; init; }

    public bool? IsError { get; init; }

    /// <summary>An answer cut short by an abort, a cancel or a timeout: what had arrived is kept.</summary>
    public bool? Partial { get; init; }

    /// <summary>A tool result longer than the limit fed back to the model; the text ends with a marker.</summary>
    public bool? Truncated { get; init; }
}

public sealed record TranscriptPage(IReadOnlyList<TranscriptEntry> Items, int Offset, bool HasMore);
