using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Kennel.ControlPlane.Config;

/// <summary>One step of a <see cref="ConfigPath"/>: an object's key, or an array's index.</summary>
public readonly record struct PathSegment(string? Key, int Index)
{
    public static PathSegment Of(string key) => new(key, -1);

    public static PathSegment At(int index) => new(null, index);
}

/// <summary>
/// A place in the config document, written the way people write it: <c>agents.main.thinking</c>, with an array index
/// as <c>tools[0]</c>, and a key holding a dot or other punctuation quoted as <c>models["openai/gpt-4.1"]</c>. The
/// empty path is the whole document. Errors name the path in the same syntax.
/// </summary>
public sealed class ConfigPath
{
    public const int MaxLength = 512;

    private ConfigPath(IReadOnlyList<PathSegment> segments) => Segments = segments;

    public static ConfigPath Root { get; } = new([]);

    public IReadOnlyList<PathSegment> Segments { get; }

    public ConfigPath Append(PathSegment segment) => new([.. Segments, segment]);

    /// <summary>Parses a path; the error says what is wrong where, for a 400 that names the <c>path</c> field.</summary>
    public static bool TryParse(string? text, out ConfigPath path, out string error)
    {
        path = Root;
        error = "";
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }
        if (text.Length > MaxLength)
        {
            error = $"A path is at most {MaxLength} characters.";
            return false;
        }
        var segments = new List<PathSegment>();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '[')
            {
                var close = text.IndexOf(']', i);
                if (close < 0 || !TryBracket(text[(i + 1)..close], text, ref close, out var segment))
                {
                    error = $"'{text}' has an unterminated or malformed [...] at character {i + 1}: write [0] for an index or [\"key\"] for a key.";
                    return false;
                }
                segments.Add(segment);
                i = close + 1;
            }
            else
            {
                var end = i;
                while (end < text.Length && IsBare(text[end]))
                {
                    end++;
                }
                if (end == i)
                {
                    error = $"'{text}' has an unexpected '{text[i]}' at character {i + 1}: quote such a key as [\"...\"].";
                    return false;
                }
                segments.Add(PathSegment.Of(text[i..end]));
                i = end;
            }
            if (i < text.Length && text[i] == '.')
            {
                i++;
                if (i == text.Length || text[i] == '.')
                {
                    error = $"'{text}' has an empty key: two dots, or a dot at the end.";
                    return false;
                }
            }
            else if (i < text.Length && text[i] != '[')
            {
                error = $"'{text}' has an unexpected '{text[i]}' at character {i + 1}.";
                return false;
            }
        }
        path = new ConfigPath(segments);
        return true;
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var segment in Segments)
        {
            if (segment.Key is null)
            {
                text.Append(CultureInfo.InvariantCulture, $"[{segment.Index}]");
            }
            else if (segment.Key.Length > 0 && segment.Key.All(IsBare))
            {
                text.Append(text.Length == 0 ? "" : ".").Append(segment.Key);
            }
            else
            {
                text.Append('[').Append(JsonSerializer.Serialize(segment.Key, Contracts.KennelJson.Default.String)).Append(']');
            }
        }
        return text.ToString();
    }

    /// <summary>Characters of a key that needs no quotes: what model ids, provider and agent names are made of, less the dot.</summary>
    private static bool IsBare(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '/' or ':' or '@';

    /// <summary>Reads <c>[0]</c> or <c>["key"]</c>; a quoted key may hold a <c>]</c>, so the end is found again past the string.</summary>
    private static bool TryBracket(string inner, string text, ref int close, out PathSegment segment)
    {
        segment = default;
        if (inner.Length > 0 && inner.All(char.IsAsciiDigit))
        {
            if (!int.TryParse(inner, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                return false;
            }
            segment = PathSegment.At(index);
            return true;
        }
        if (inner.Length == 0 || inner[0] != '"')
        {
            return false;
        }
        var start = close - inner.Length;
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text[start..]), new JsonReaderOptions { AllowMultipleValues = true });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.String)
            {
                return false;
            }
            var key = reader.GetString()!;
            var after = start + Encoding.UTF8.GetCharCount(Encoding.UTF8.GetBytes(text[start..]).AsSpan(0, (int)reader.BytesConsumed));
            if (after >= text.Length || text[after] != ']' || key.Length == 0)
            {
                return false;
            }
            close = after;
            segment = PathSegment.Of(key);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
