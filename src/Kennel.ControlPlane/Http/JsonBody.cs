using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Kennel.Contracts;

namespace Kennel.ControlPlane.Http;

public static class JsonBody
{
    /// <summary>
    /// Reads a request body strictly: unknown fields and wrong types are 400s that name the field. Read by hand rather
    /// than by parameter binding so the error says what is wrong instead of a generic "bad request".
    /// </summary>
    public static async Task<T> ReadAsync<T>(HttpRequest request)
    {
        if (request.ContentLength == 0 || !request.HasJsonContentType())
        {
            throw new ApiProblem(StatusCodes.Status400BadRequest, ErrorCodes.InvalidJson,
                "The request body must be JSON.", "Send a JSON object with Content-Type: application/json.");
        }
        var strict = (JsonTypeInfo<T>)KennelJson.Strict.GetTypeInfo(typeof(T));
        try
        {
            return await JsonSerializer.DeserializeAsync(request.Body, strict, request.HttpContext.RequestAborted)
                ?? throw new ApiProblem(StatusCodes.Status400BadRequest, ErrorCodes.InvalidJson, "The request body must be a JSON object.");
        }
        catch (JsonException json) when (UnknownField(json) is { } field)
        {
            throw new ApiProblem(StatusCodes.Status400BadRequest, ErrorCodes.InvalidJson, "The request has an unknown field.",
                $"'{field}' is not a field of this request.", field);
        }
    }

    private static string? UnknownField(JsonException json)
    {
        const string marker = "The JSON property '";
        var message = json.Message;
        var start = message.IndexOf(marker, StringComparison.Ordinal);
        if (start < 0 || !message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            return null;
        }
        start += marker.Length;
        var end = message.IndexOf('\'', start);
        if (end <= start)
        {
            return null;
        }
        // The message names only the last property; the path names a nested one in full, as resources.gpus.
        return json.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : message[start..end];
    }
}
