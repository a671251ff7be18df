using Kennel.Agents.Providers;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Conversations;

/// <summary>The bounds of what a conversation request may hold, checked at the edge so a refusal names the field.</summary>
public static class ConversationValidator
{
    public const int MaxKeyLength = 64;
    public const int MaxLabelLength = 200;
    public const int MaxMessageLength = 100_000;
    public const int DefaultListLimit = 20;
    public const int MaxListLimit = 50;
    public const int DefaultHistoryLimit = 50;
    public const int MaxHistoryLimit = 200;

    /// <summary>A key names a conversation for people and tools, such as <c>main</c> or <c>ticket-42</c>.</summary>
    public static string? Key(string? key, string field = "key")
    {
        if (key is null)
        {
            return null;
        }
        if (key.Length is 0 or > MaxKeyLength || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')
            || key.StartsWith("cnv_", StringComparison.Ordinal))
        {
            throw ApiProblem.Invalid(field,
                $"{field} must be 1-{MaxKeyLength} letters, digits, '-', '_', '.' or ':' (and not start with cnv_), such as main.");
        }
        return key;
    }

    public static string? Label(string? label)
    {
        if (label is null)
        {
            return null;
        }
        if (label.Length > MaxLabelLength || label.Any(char.IsControl))
        {
            throw ApiProblem.Invalid("label", $"label must be at most {MaxLabelLength} characters, without control characters.");
        }
        return label.Length == 0 ? null : label;
    }

    public static string? Thinking(string? thinking)
    {
        if (thinking is null)
        {
            return null;
        }
        return ThinkingLevels.TryParse(thinking, out _)
            ? thinking
            : throw ApiProblem.Invalid("thinking", $"thinking must be one of {string.Join(", ", ThinkingLevels.Names)}.");
    }

    public static string Message(string? message)
    {
        if (string.IsNullOrWhiteSpace(message) || message.Length > MaxMessageLength)
        {
            throw ApiProblem.Invalid("message", $"message must be 1-{MaxMessageLength} characters, not only white space.");
        }
        return message;
    }

    public static int Limit(int? limit, int fallback, int max) => (limit ?? fallback) is var take && take >= 1 && take <= max
        ? take
        : throw ApiProblem.Invalid("limit", $"limit must be between 1 and {max}.");
}
