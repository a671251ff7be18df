using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Kennel.ControlPlane.Config;

/// <summary>
/// The pure operations on a config document: read a path, write a path (a copy; the original is never changed), list
/// what differs between two documents, and the hash that names a document's exact text.
/// </summary>
public static class ConfigDocument
{
    public const string Empty = "{}";

    /// <summary>The most changed paths a version records; past it, the parent paths alone stand for the change.</summary>
    public const int MaxChangedPaths = 100;

    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>The value at <paramref name="path"/>, or false when nothing is there.</summary>
    public static bool TryGet(JsonNode root, ConfigPath path, out JsonNode? value)
    {
        value = root;
        foreach (var segment in path.Segments)
        {
            value = (value, segment.Key) switch
            {
                (JsonObject obj, { } key) when obj.TryGetPropertyValue(key, out var child) => child ?? JsonValue.Create((string?)null),
                (JsonArray array, null) when segment.Index < array.Count => array[segment.Index],
                _ => null,
            };
            if (value is null)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// A copy of <paramref name="root"/> with <paramref name="value"/> at <paramref name="path"/>: missing objects on the
    /// way are created, a <c>null</c> value removes the key (or array item), and an index may name an item or the end of
    /// its array (to append). The error names the step that cannot be taken.
    /// </summary>
    public static JsonObject Set(JsonObject root, ConfigPath path, JsonNode? value, out string? error)
    {
        error = null;
        if (path.Segments.Count == 0)
        {
            if (value is JsonObject whole)
            {
                return (JsonObject)whole.DeepClone();
            }
            error = "The whole document must be a JSON object.";
            return root;
        }
        var copy = (JsonObject)root.DeepClone();
        JsonNode parent = copy;
        var walked = ConfigPath.Root;
        for (var i = 0; i < path.Segments.Count - 1; i++)
        {
            var segment = path.Segments[i];
            walked = walked.Append(segment);
            JsonNode? next;
            if (parent is JsonObject obj && segment.Key is { } key)
            {
                next = obj[key];
                if (next is null)
                {
                    if (value is null)
                    {
                        return copy;
                    }
                    next = new JsonObject();
                    obj[key] = next;
                }
            }
            else if (parent is JsonArray array && segment.Key is null && segment.Index < array.Count)
            {
                next = array[segment.Index];
            }
            else
            {
                error = $"{walked} cannot be reached: {(parent is JsonArray ? "an array takes an index that exists" : "a value here is not an object")}.";
                return root;
            }
            if (next is not (JsonObject or JsonArray))
            {
                error = $"{walked} holds {(next is null ? "null" : $"a {next.GetValueKind().ToString().ToLowerInvariant()}")}, which has no {path.Segments[i + 1].Key ?? "items"}.";
                return root;
            }
            parent = next;
        }
        var last = path.Segments[^1];
        var target = value?.DeepClone();
        switch (parent, last.Key)
        {
            case (JsonObject obj, { } key):
                if (target is null)
                {
                    obj.Remove(key);
                }
                else
                {
                    obj[key] = target;
                }
                break;
            case (JsonArray array, null) when last.Index < array.Count:
                if (target is null)
                {
                    array.RemoveAt(last.Index);
                }
                else
                {
                    array[last.Index] = target;
                }
                break;
            case (JsonArray array, null) when last.Index == array.Count && target is not null:
                array.Add(target);
                break;
            default:
                error = $"{path} cannot be written: {(parent is JsonArray array2 ? $"the array has {array2.Count} items" : "its parent is not an object")}.";
                return root;
        }
        return copy;
    }

    /// <summary>The paths whose values differ, deepest first where both sides are objects; bounded by <see cref="MaxChangedPaths"/>.</summary>
    public static IReadOnlyList<string> Changes(JsonNode? before, JsonNode? after)
    {
        var changes = new List<string>();
        Compare(before, after, ConfigPath.Root, changes);
        return changes.Count <= MaxChangedPaths ? changes : [.. changes.Take(MaxChangedPaths), $"… and {changes.Count - MaxChangedPaths} more"];
    }

    private static void Compare(JsonNode? before, JsonNode? after, ConfigPath path, List<string> changes)
    {
        if (before is JsonObject old && after is JsonObject now)
        {
            foreach (var key in old.Select(p => p.Key).Union(now.Select(p => p.Key), StringComparer.Ordinal))
            {
                Compare(old[key], now[key], path.Append(PathSegment.Of(key)), changes);
            }
        }
        else if (!JsonNode.DeepEquals(before, after))
        {
            changes.Add(path.ToString());
        }
    }
}
