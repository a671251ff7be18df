using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Kennel.Contracts;

namespace Kennel.ControlPlane.Http;

public static class JsonBody
{
    /// <summary>
    /// Reads a request body strictly: unknown fields and wrong types are 400s that name the field. Read by hand rather
    /// than by parameter binding so the error says what is wrong instead of a generic "bad request". Every string and
    /// property name is checked first (<see cref="JsonText"/>): NUL is refused (400 <c>invalid_request</c>) unless
    /// <paramref name="nulAllowed"/>, and text that cannot be decoded is 400 <c>invalid_json</c>, each naming the field.
    /// </summary>
    /// <param name="nulAllowed">Only for the worker's reports, whose output is the workload's own bytes (the store replaces NUL).</param>
    public static async Task<T> ReadAsync<T>(HttpRequest request, bool nulAllowed = false)
    {
        if (request.ContentLength == 0 || !request.HasJsonContentType())
        {
            throw new ApiProblem(StatusCodes.Status400BadRequest, ErrorCodes.InvalidJson,
                "The request body must be JSON.", "Send a JSON object with Content-Type: application/json.");
        }
        // Buffered (Kestrel caps its size) so the text can be checked before anything is deserialized.
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
        var json = body.GetBuffer().AsSpan(0, (int)body.Length);
        if (JsonText.Find(json, nulAllowed) is { } bad)
        {
            throw Refuse(bad);
        }
        var strict = (JsonTypeInfo<T>)KennelJson.Strict.GetTypeInfo(typeof(T));
        try
        {
            return JsonSerializer.Deserialize(json, strict)
                ?? throw new ApiProblem(StatusCodes.Status400BadRequest, ErrorCodes.InvalidJson, "The request body must be a JSON object.");
        }
        catch (JsonException unknown) when (UnknownField(unknown) is { } field)
        {
            throw new ApiProblem(StatusCodes.Status400BadRequest, ErrorCodes.InvalidJson, "The request has an unknown field.",
                $"'{field}' is not a field of this request.", field);
        }
    }

    /// <summary>The answer to bad text in a JSON body: NUL is a value the API refuses, undecodable text is not JSON it can read.</summary>
    private static ApiProblem Refuse(BadText bad) => bad.Kind == BadTextKind.Nul
        ? ApiProblem.Invalid(bad.Field, bad.Describe(bad.Field))
        : new ApiProblem(StatusCodes.Status400BadRequest, ErrorCodes.InvalidJson, "The request body holds text that cannot be decoded.",
            bad.Describe(bad.Field), bad.Field);

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
