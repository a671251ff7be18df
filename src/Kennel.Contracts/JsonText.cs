using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Kennel.Contracts;

/// <summary>What is wrong with a string that the edge refuses.</summary>
public enum BadTextKind
{
    /// <summary>A NUL character (<c>\u0000</c>): PostgreSQL cannot store it, and no name or argument needs one.</summary>
    Nul,

    /// <summary>Text no reader can decode: invalid UTF-8, or a UTF-16 surrogate escape without its pair (<c>\ud800</c>).</summary>
    Undecodable,
}

/// <summary>The first string or property name of a JSON document that holds bad text, and where it is.</summary>
/// <param name="Path">From the root: property names, and array indexes as <c>[i]</c>.</param>
public sealed record BadText(BadTextKind Kind, IReadOnlyList<string> Path)
{
    /// <summary>The path as a field name: <c>env.A</c>, <c>command[1]</c>; a NUL in a name shown as <c>\u0000</c>.</summary>
    public string Field => Join(Path);

    public static string Join(IEnumerable<string> path)
    {
        var field = new StringBuilder();
        foreach (var segment in path)
        {
            if (field.Length > 0 && !segment.StartsWith('['))
            {
                field.Append('.');
            }
            field.Append(segment.Replace("\0", "\\u0000", StringComparison.Ordinal));
        }
        return field.ToString();
    }

    public string Describe(string field) => Kind == BadTextKind.Nul
        ? $"'{field}' contains a NUL character (\\u0000), which is not accepted."
        : $"'{field}' is not valid text: it holds invalid UTF-8 or a UTF-16 surrogate without its pair.";
}

/// <summary>
/// Finds the text the edge refuses in a JSON document, without deserializing it: one pass of
/// <see cref="Utf8JsonReader"/>, and none at all for a document that is plain ASCII without escapes (the common case).
/// A document that is not well-formed JSON has nothing to report here; its parser says what is wrong with it.
/// </summary>
public static class JsonText
{
    public static BadText? Find(ReadOnlySpan<byte> json, bool nulAllowed = false)
    {
        if (json.IndexOf("\\u"u8) < 0 && Ascii.IsValid(json))
        {
            return null;
        }
        var path = new List<string>();
        // One entry per open container: the index of its current element in an array, -1 in an object.
        var containers = new Stack<int>();
        var reader = new Utf8JsonReader(json);
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        path[^1] = "";
                        if (Check(ref reader, nulAllowed) is { } nameProblem)
                        {
                            return new BadText(nameProblem, [.. path[..^1], Readable(ref reader)]);
                        }
                        path[^1] = reader.GetString()!;
                        continue;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        Element(path, containers);
                        containers.Push(reader.TokenType == JsonTokenType.StartArray ? 0 : -1);
                        path.Add("");
                        continue;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        containers.Pop();
                        path.RemoveAt(path.Count - 1);
                        continue;
                    case JsonTokenType.String:
                        Element(path, containers);
                        if (Check(ref reader, nulAllowed) is { } valueProblem)
                        {
                            return new BadText(valueProblem, [.. path]);
                        }
                        continue;
                    default:
                        Element(path, containers);
                        continue;
                }
            }
        }
        catch (JsonException)
        {
            // Not well-formed: the deserializer that reads it next reports where.
        }
        return null;
    }

    /// <summary>Moves an array's path segment to the element just read.</summary>
    private static void Element(List<string> path, Stack<int> containers)
    {
        if (containers.TryPeek(out var index) && index >= 0)
        {
            path[^1] = $"[{index}]";
            containers.Pop();
            containers.Push(index + 1);
        }
    }

    private static BadTextKind? Check(ref Utf8JsonReader reader, bool nulAllowed)
    {
        var raw = reader.ValueSpan;
        if (!Utf8.IsValid(raw))
        {
            return BadTextKind.Undecodable;
        }
        return reader.ValueIsEscaped ? CheckEscapes(raw, nulAllowed) : null;
    }

    /// <summary>Walks the escapes of a raw JSON string (well-formed, as the reader checked) for NUL and unpaired surrogates.</summary>
    private static BadTextKind? CheckEscapes(ReadOnlySpan<byte> raw, bool nulAllowed)
    {
        var pendingHigh = false;
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != '\\')
            {
                if (pendingHigh)
                {
                    return BadTextKind.Undecodable;
                }
                continue;
            }
            if (raw[i + 1] != 'u')
            {
                if (pendingHigh)
                {
                    return BadTextKind.Undecodable;
                }
                i++;
                continue;
            }
            var unit = ushort.Parse(raw.Slice(i + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            i += 5;
            var isHigh = unit is >= 0xD800 and <= 0xDBFF;
            var isLow = unit is >= 0xDC00 and <= 0xDFFF;
            if (pendingHigh != isLow)
            {
                return BadTextKind.Undecodable;
            }
            pendingHigh = isHigh;
            if (unit == 0 && !nulAllowed)
            {
                return BadTextKind.Nul;
            }
        }
        return pendingHigh ? BadTextKind.Undecodable : null;
    }

    /// <summary>A property name for a message: decoded, or when it cannot be, as written (<c>\ud800</c>; invalid UTF-8 as U+FFFD).</summary>
    private static string Readable(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return Encoding.UTF8.GetString(reader.ValueSpan);
        }
    }
}
