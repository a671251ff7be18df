using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace Kennel.Bench;

/// <summary>
/// What the MCP benchmarks call on a fresh <c>kennel serve</c>: an API key with read and write in workspace
/// <c>bench</c>, and one finished session (<c>echo hello</c>) whose <c>get-session</c> is the call they load.
/// </summary>
internal static class McpBenchSession
{
    public static async Task<string> CreateKeyAsync(int port, string dataDir)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            (await File.ReadAllTextAsync(Path.Combine(dataDir, "admin-api-key"))).Trim());
        using var created = await http.PostAsJsonAsync("v1/apikeys",
            new CreateApiKeyRequest { Workspace = "bench", Scopes = [Scopes.Read, Scopes.Write], Name = "mcp-bench" },
            KennelJson.Default.CreateApiKeyRequest);
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync(KennelJson.Default.CreatedApiKey))!.Key;
    }

    /// <summary>Runs <c>echo hello</c> to its end through <paramref name="client"/>; its session id.</summary>
    public static async Task<string> FinishedSessionAsync(McpClient client)
    {
        var session = await client.CallToolAsync("create-session", Args("""{"command":["echo","hello"]}"""));
        if (session.IsError == true || session.StructuredContent is null)
        {
            throw new InvalidOperationException($"create-session failed: {JsonSerializer.Serialize(session, McpJsonUtilities.DefaultOptions)}");
        }
        var sessionId = session.StructuredContent!.Value.GetProperty("id").GetString()!;
        var done = await client.CallToolAsync("wait-for-session", Args($$"""{"id":"{{sessionId}}"}"""));
        if (done.StructuredContent!.Value.GetProperty("status").GetString() != "succeeded")
        {
            throw new InvalidOperationException($"session {sessionId} did not succeed: {done.StructuredContent}");
        }
        return sessionId;
    }

    public static Dictionary<string, object?> Args(string json) =>
        JsonDocument.Parse(json).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
}
