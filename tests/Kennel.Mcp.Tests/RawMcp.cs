using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Kennel.Mcp.Tests;

/// <summary>
/// <c>/mcp</c> over plain HTTP, for what the SDK client cannot send (wrong shapes, text it would not encode) or would
/// hide (status codes, headers).
/// </summary>
public static class RawMcp
{
    public const string Initialize =
        """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";

    public const string ListTools = """{"jsonrpc":"2.0","id":2,"method":"tools/list"}""";

    public static HttpRequestMessage Post(string json, string? sessionId = null) => Post(Encoding.UTF8.GetBytes(json), sessionId);

    public static HttpRequestMessage Post(byte[] json, string? sessionId = null)
    {
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (sessionId is not null)
        {
            request.Headers.Add("Mcp-Session-Id", sessionId);
        }
        return request;
    }

    /// <summary>Initializes a session (and sends <c>notifications/initialized</c>); returns its id.</summary>
    public static async Task<string> OpenSessionAsync(HttpClient client)
    {
        using var initialized = await client.SendAsync(Post(Initialize));
        initialized.EnsureSuccessStatusCode();
        var sessionId = initialized.Headers.GetValues("Mcp-Session-Id").Single();
        using var notified = await client.SendAsync(Post("""{"jsonrpc":"2.0","method":"notifications/initialized"}""", sessionId));
        notified.EnsureSuccessStatusCode();
        return sessionId;
    }

    /// <summary>The first JSON-RPC message of an answer: an SSE stream's first event with data, or a JSON body.</summary>
    public static async Task<JsonElement> ReadEventAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (response.Content.Headers.ContentType?.MediaType == "application/json")
        {
            return JsonDocument.Parse(body).RootElement.Clone();
        }
        // Skips the priming event (an id and empty data) that starts a resumable stream.
        var data = body.Split('\n').Where(line => line.StartsWith("data:", StringComparison.Ordinal))
            .Select(line => line["data:".Length..].Trim()).First(line => line.Length > 0);
        return JsonDocument.Parse(data).RootElement.Clone();
    }
}
