using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;
using Kennel.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Kennel.Mcp.Tests;

/// <summary>The official C# SDK client, connected to a test server's <c>/mcp</c> over HTTP with an API key.</summary>
public static class Mcp
{
    public static async Task<McpClient> ConnectAsync(this TestServer server, string apiKey) =>
        await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(server.Url, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {apiKey}" },
        }));

    /// <summary>A new API key with <paramref name="scopes"/>, in a new workspace unless one is named.</summary>
    public static async Task<string> NewKeyAsync(this TestServer server, string? workspace, params string[] scopes)
    {
        using var admin = server.Client();
        return (await admin.CreateApiKeyAsync(workspace ?? $"m-{Guid.NewGuid():N}"[..20], scopes)).Key;
    }

    public static ValueTask<CallToolResult> CallAsync(this McpClient client, string tool, object? arguments = null, IProgress<ModelContextProtocol.ProgressNotificationValue>? progress = null) =>
        client.CallToolAsync(tool, Arguments(arguments), progress);

    /// <summary>Arguments as the wire JSON, so a test can send exactly what a model would (including wrong types).</summary>
    public static IReadOnlyDictionary<string, object?> Arguments(object? arguments) => arguments switch
    {
        null => new Dictionary<string, object?>(),
        string json => JsonDocument.Parse(json).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone()),
        _ => throw new ArgumentException("Pass arguments as a JSON object string.", nameof(arguments)),
    };

    public static Session Session(this CallToolResult result)
    {
        result.IsError.ShouldNotBe(true, Text(result));
        return result.StructuredContent!.Value.Deserialize(KennelJson.Default.Session)!;
    }

    /// <summary>A successful call's structured content, read as <typeparamref name="T"/>.</summary>
    public static T Read<T>(this CallToolResult result, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> json)
    {
        result.IsError.ShouldNotBe(true, result.Text());
        return System.Text.Json.JsonSerializer.Deserialize(result.StructuredContent!.Value, json)!;
    }

    public static string Text(this CallToolResult result) => string.Concat(result.Content.OfType<TextContentBlock>().Select(c => c.Text));

    /// <summary>Asserts a tool error and returns its <c>{error, message}</c>.</summary>
    public static (string Error, string Message, string? Field) Failure(this CallToolResult result)
    {
        result.IsError.ShouldBe(true, Text(result));
        using var json = JsonDocument.Parse(Text(result));
        var field = json.RootElement.TryGetProperty("field", out var f) ? f.GetString() : null;
        return (json.RootElement.GetProperty("error").GetString()!, json.RootElement.GetProperty("message").GetString()!, field);
    }
}
