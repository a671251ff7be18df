using System.Net.Http.Json;
using System.Text;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Sessions;

namespace Kennel.Testing;

/// <summary>Calls the REST API the way a user's script would, with the wire JSON.</summary>
public static class Api
{
    public static async Task<Session> CreateSessionAsync(this HttpClient client, CreateSessionRequest request)
    {
        using var response = await client.PostAsJsonAsync("/v1/sessions", request, KennelJson.Default.CreateSessionRequest);
        await EnsureAsync(response, StatusCodes.Status202Accepted);
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.Session))!;
    }

    public static Task<Session> RunScriptAsync(this HttpClient client, string script) =>
        client.CreateSessionAsync(new CreateSessionRequest { Script = script });

    public static async Task<Session> GetSessionAsync(this HttpClient client, string id)
    {
        using var response = await client.GetAsync($"/v1/sessions/{id}");
        await EnsureAsync(response, StatusCodes.Status200OK);
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.Session))!;
    }

    /// <summary>Waits (server side) until the session is terminal, for at most <paramref name="timeout"/>.</summary>
    public static async Task<Session> WaitAsync(this HttpClient client, string id, TimeSpan? timeout = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var slice = (long)Math.Clamp((deadline - DateTimeOffset.UtcNow).TotalMilliseconds, 0, 30_000);
            using var response = await client.GetAsync($"/v1/sessions/{id}/wait?timeoutMs={slice}");
            await EnsureAsync(response, StatusCodes.Status200OK);
            var session = (await response.Content.ReadFromJsonAsync(KennelJson.Default.Session))!;
            if (session.Status.IsTerminal() || DateTimeOffset.UtcNow >= deadline)
            {
                return session;
            }
        }
    }

    public static async Task<Session> CancelAsync(this HttpClient client, string id)
    {
        using var response = await client.PostAsync($"/v1/sessions/{id}/cancel", null);
        await EnsureAsync(response, StatusCodes.Status202Accepted);
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.Session))!;
    }

    public static async Task<CreatedApiKey> CreateApiKeyAsync(this HttpClient client, string? workspace = null, params string[] scopes)
    {
        using var response = await client.PostAsJsonAsync("/v1/apikeys",
            new CreateApiKeyRequest { Workspace = workspace, Scopes = scopes.Length > 0 ? scopes : null, Name = "test" },
            KennelJson.Default.CreateApiKeyRequest);
        await EnsureAsync(response, StatusCodes.Status201Created);
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.CreatedApiKey))!;
    }

    /// <summary>Sends raw JSON text, for tests of malformed or hostile input.</summary>
    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string path, string body, string contentType = "application/json") =>
        client.PostAsync(path, new StringContent(body, Encoding.UTF8, contentType));

    /// <summary>Reads an error response as problem details, checking the media type RFC 9457 requires.</summary>
    public static async Task<Problem> ReadProblemAsync(this HttpResponseMessage response)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType != "application/problem+json")
        {
            throw new InvalidOperationException($"Expected application/problem+json, got {mediaType}: {await response.Content.ReadAsStringAsync()}");
        }
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.Problem))!;
    }

    internal static async Task EnsureAsync(HttpResponseMessage response, int expected)
    {
        if ((int)response.StatusCode != expected)
        {
            throw new InvalidOperationException($"Expected {expected}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }
}
