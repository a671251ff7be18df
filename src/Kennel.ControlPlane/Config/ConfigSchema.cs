using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Kennel.ControlPlane.Config;

/// <summary>
/// The published JSON schema of the workspace config (<c>GET /v1/config/schema</c>), what checks every write, and what
/// says which fields are secrets (<c>writeOnly</c>).
/// </summary>
public static class ConfigSchema
{
    public static string Text { get; } = ReadText();

    private static readonly JsonSchema Schema = JsonSchema.FromText(Text);
    private static readonly JsonObject Root = JsonNode.Parse(Text)!.AsObject();

    /// <summary>The first violation, deepest first: the path at fault and the reason, or null when the document is valid.</summary>
    public static (string Path, string Reason)? Violation(JsonObject document)
    {
        using var parsed = JsonDocument.Parse(document.ToJsonString());
        var results = Schema.Evaluate(parsed.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.Hierarchical });
        if (results.IsValid)
        {
            return null;
        }
        var failures = new List<(string Location, IReadOnlyDictionary<string, string> Errors)>();
        Failures(results, failures);
        var worst = failures.OrderByDescending(failure => failure.Location.Length).FirstOrDefault();
        if (worst.Location is null)
        {
            return ("", "The document does not match the schema.");
        }
        var reasons = string.Join("; ", worst.Errors.Where(error => error.Key != "oneOf" || worst.Errors.Count == 1).Select(error => error.Value));
        return (FromPointer(worst.Location, document).ToString(), reasons);
    }

    /// <summary>
    /// The errors of the failed parts only: a branch of a <c>oneOf</c> that failed while another matched is no error,
    /// so the walk goes down only through results that failed themselves.
    /// </summary>
    private static void Failures(EvaluationResults results, List<(string, IReadOnlyDictionary<string, string>)> failures)
    {
        if (results.IsValid)
        {
            return;
        }
        if (results.Errors is { Count: > 0 } errors)
        {
            failures.Add((results.InstanceLocation.ToString(), errors));
        }
        foreach (var detail in results.Details ?? [])
        {
            Failures(detail, failures);
        }
    }

    /// <summary>The paths of the secret (<c>writeOnly</c>) fields present in <paramref name="document"/>.</summary>
    public static IReadOnlyList<ConfigPath> SecretPaths(JsonNode document)
    {
        var found = new List<ConfigPath>();
        Walk(Root, document, ConfigPath.Root, found);
        return found;
    }

    private static void Walk(JsonNode schema, JsonNode? node, ConfigPath path, List<ConfigPath> found)
    {
        schema = Resolve(schema);
        if (schema["writeOnly"]?.GetValue<bool>() == true)
        {
            found.Add(path);
            return;
        }
        if (node is not JsonObject obj)
        {
            return;
        }
        var properties = schema["properties"] as JsonObject;
        var additional = schema["additionalProperties"] as JsonObject;
        foreach (var (key, child) in obj)
        {
            if (properties?[key] is JsonObject known)
            {
                Walk(known, child, path.Append(PathSegment.Of(key)), found);
            }
            else if (additional is not null)
            {
                Walk(additional, child, path.Append(PathSegment.Of(key)), found);
            }
        }
    }

    /// <summary>Follows a local <c>$ref</c> (<c>#/$defs/name</c>) and keeps the referring schema's own <c>writeOnly</c>.</summary>
    private static JsonNode Resolve(JsonNode schema)
    {
        if (schema["writeOnly"] is not null || schema["$ref"]?.GetValue<string>() is not { } reference)
        {
            return schema;
        }
        return Root["$defs"]![reference["#/$defs/".Length..]]!;
    }

    /// <summary>An RFC 6901 pointer as a config path; a number is an index where the document has an array there.</summary>
    private static ConfigPath FromPointer(string pointer, JsonNode document)
    {
        var path = ConfigPath.Root;
        JsonNode? node = document;
        foreach (var raw in pointer.Split('/').Skip(1))
        {
            var token = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (node is JsonArray array && int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                path = path.Append(PathSegment.At(index));
                node = index < array.Count ? array[index] : null;
            }
            else
            {
                path = path.Append(PathSegment.Of(token));
                node = (node as JsonObject)?[token];
            }
        }
        return path;
    }

    private static string ReadText()
    {
        using var stream = typeof(ConfigSchema).Assembly.GetManifestResourceStream("workspace-config.schema.json")
            ?? throw new InvalidOperationException("The config schema is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
