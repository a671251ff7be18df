using System.Globalization;
using System.Text.Json;
using Kennel.Mcp;

namespace Kennel.ControlPlane.Mcp;

/// <summary>
/// A tool call's arguments checked against the tool's own input schema before the tool runs, so every tool refuses
/// what its schema does not allow with <c>invalid_arguments</c> naming the argument: names it does not take, required
/// ones left out, and values of the wrong type, outside <c>enum</c>, <c>minimum</c>/<c>maximum</c> or
/// <c>minLength</c>/<c>maxLength</c>. What the schema cannot say (a config path's syntax, a date's format) the
/// services check, with the same code and field.
/// </summary>
public static class ToolArguments
{
    public static ToolFailure? Check(string tool, JsonElement schema, IDictionary<string, JsonElement>? arguments)
    {
        var properties = schema.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
        var given = arguments ?? new Dictionary<string, JsonElement>();
        foreach (var (name, value) in given)
        {
            if (properties.ValueKind != JsonValueKind.Object || !properties.TryGetProperty(name, out var property))
            {
                var names = properties.ValueKind == JsonValueKind.Object ? string.Join(", ", properties.EnumerateObject().Select(x => x.Name)) : "";
                return Invalid(name, names.Length == 0
                    ? $"{tool} takes no arguments; '{name}' is not one."
                    : $"'{name}' is not an argument of {tool}; it takes {names}.");
            }
            if (Problem(property, value) is { } problem)
            {
                return Invalid(name, $"'{name}' {problem}.");
            }
        }
        if (schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in required.EnumerateArray().Select(r => r.GetString()!))
            {
                if (!given.ContainsKey(name))
                {
                    return Invalid(name, $"'{name}' is required.");
                }
            }
        }
        return null;
    }

    private static ToolFailure Invalid(string field, string message) => new(ToolFailure.InvalidArguments, message) { Field = field };

    private static string? Problem(JsonElement schema, JsonElement value)
    {
        if (schema.TryGetProperty("type", out var type) && !Types(type).Any(t => Is(t, value)))
        {
            return $"must be {string.Join(" or ", Types(type).Select(Article))}";
        }
        if (schema.TryGetProperty("enum", out var choices) && choices.ValueKind == JsonValueKind.Array
            && !choices.EnumerateArray().Any(choice => JsonElement.DeepEquals(choice, value)))
        {
            return $"must be one of {string.Join(", ", choices.EnumerateArray().Select(c => c.GetRawText()))}";
        }
        if (value.ValueKind == JsonValueKind.Number)
        {
            var number = value.GetDouble();
            if (schema.TryGetProperty("minimum", out var min) && number < min.GetDouble())
            {
                return $"must be at least {min.GetRawText()}";
            }
            if (schema.TryGetProperty("maximum", out var max) && number > max.GetDouble())
            {
                return $"must be at most {max.GetRawText()}";
            }
        }
        if (value.ValueKind == JsonValueKind.String)
        {
            var length = value.GetString()!.Length;
            if (schema.TryGetProperty("minLength", out var min) && length < min.GetInt32())
            {
                return $"must be at least {min.GetInt32().ToString(CultureInfo.InvariantCulture)} characters";
            }
            if (schema.TryGetProperty("maxLength", out var max) && length > max.GetInt32())
            {
                return $"must be at most {max.GetInt32().ToString(CultureInfo.InvariantCulture)} characters";
            }
        }
        return null;
    }

    private static IEnumerable<string> Types(JsonElement type) => type.ValueKind == JsonValueKind.Array
        ? type.EnumerateArray().Select(t => t.GetString()!)
        : [type.GetString()!];

    private static bool Is(string type, JsonElement value) => type switch
    {
        "string" => value.ValueKind == JsonValueKind.String,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "number" => value.ValueKind == JsonValueKind.Number,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "array" => value.ValueKind == JsonValueKind.Array,
        "object" => value.ValueKind == JsonValueKind.Object,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => true,
    };

    private static string Article(string type) => type switch
    {
        "integer" => "an integer",
        "object" => "an object",
        "array" => "an array",
        "null" => "null",
        _ => $"a {type}",
    };
}
