using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Kennel.Contracts;
using Kennel.ControlPlane.Hosting;

namespace Kennel.Cli;

/// <summary>The CLI's way to the REST API: <c>KENNEL_URL</c> and <c>KENNEL_API_KEY</c>, and problem details turned into plain errors.</summary>
public sealed class KennelClient : IDisposable
{
    public const string DefaultUrl = "http://localhost:4000";
    private readonly HttpClient http;

    private KennelClient(Uri baseUrl, string apiKey)
    {
        BaseUrl = baseUrl;
        http = new HttpClient { BaseAddress = baseUrl, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("kennel-cli", HealthEndpoints.Version));
    }

    public Uri BaseUrl { get; }

    /// <summary>
    /// The key comes from <c>KENNEL_API_KEY</c>; failing that, from the bootstrap admin key file in <c>KENNEL_DATA_DIR</c>,
    /// so the quickstart works on the machine that runs <c>kennel serve</c> with nothing to paste.
    /// </summary>
    public static KennelClient FromEnvironment()
    {
        var url = Environment.GetEnvironmentVariable("KENNEL_URL") is { Length: > 0 } set ? set : DefaultUrl;
        if (!Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            throw new CliException($"KENNEL_URL must be an http(s) URL, not '{url}'.", ExitCodes.Usage);
        }
        var key = Environment.GetEnvironmentVariable("KENNEL_API_KEY");
        if (string.IsNullOrWhiteSpace(key))
        {
            var file = Path.Combine(KennelSettings.DataDirFromEnvironment(), "admin-api-key");
            key = File.Exists(file) ? File.ReadAllText(file).Trim() : null;
        }
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new CliException("KENNEL_API_KEY is not set. Set it to an API key (kennel apikey create prints one).", ExitCodes.Usage);
        }
        return new KennelClient(baseUrl, key.Trim());
    }

    public Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, null, type, cancellationToken);

    public Task<T> PostAsync<T>(string path, HttpContent? body, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, path, body, type, cancellationToken);

    public Task<T> PutAsync<T>(string path, HttpContent body, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, path, body, type, cancellationToken);

    public Task<T> PatchAsync<T>(string path, HttpContent body, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Patch, path, body, type, cancellationToken);

    public Task<T> DeleteAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, path, null, type, cancellationToken);

    public async Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, path);
        using var response = await SendRawAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
    }

    public static HttpContent Json<T>(T value, JsonTypeInfo<T> type) => JsonContent.Create(value, type);

    /// <summary>Opens a server-sent event stream and yields (event, data) pairs until the server closes it.</summary>
    public IAsyncEnumerable<(string Event, string Data)> EventsAsync(string path, CancellationToken cancellationToken) =>
        EventsAsync(HttpMethod.Get, path, null, cancellationToken);

    /// <summary>Sends a request that answers with a server-sent event stream, and yields its (event, data) pairs.</summary>
    public async IAsyncEnumerable<(string Event, string Data)> EventsAsync(HttpMethod method, string path, HttpContent? body,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await SendRawAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream);
        string? name = null;
        var data = new System.Text.StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (name is not null)
                {
                    yield return (name, data.ToString());
                }
                name = null;
                data.Clear();
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Append(line.AsSpan(6));
            }
        }
    }

    /// <summary>Copies a plain-text answer to <paramref name="output"/> as it arrives (a build log being followed).</summary>
    public async Task CopyTextAsync(string path, TextWriter output, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await SendRawAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream);
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            await output.FlushAsync(cancellationToken);
        }
    }

    public void Dispose() => http.Dispose();

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? body, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body };
        using var response = await SendRawAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        return await response.Content.ReadFromJsonAsync(type, cancellationToken)
            ?? throw new CliException($"Kennel at {BaseUrl} sent an empty answer.");
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException exception)
        {
            throw new CliException($"Cannot reach Kennel at {BaseUrl} ({exception.Message}). Is 'kennel serve' running, and is KENNEL_URL right?",
                ExitCodes.Error, transient: true);
        }
        if (response.IsSuccessStatusCode)
        {
            return response;
        }
        using (response)
        {
            throw new CliException(await DescribeAsync(response, cancellationToken));
        }
    }

    private static async Task<string> DescribeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            if (await response.Content.ReadFromJsonAsync(KennelJson.Default.Problem, cancellationToken) is { } problem)
            {
                var field = problem.Field is null ? "" : $" (field: {problem.Field})";
                return $"{problem.Title} {problem.Detail}{field} [{problem.Code}]".Replace("  ", " ", StringComparison.Ordinal);
            }
        }
        catch (JsonException)
        {
            // Not problem details; fall through to the status line.
        }
        return response.StatusCode == HttpStatusCode.NotFound
            ? "Not found. Is KENNEL_URL pointing at Kennel?"
            : $"Kennel answered {(int)response.StatusCode} {response.ReasonPhrase}.";
    }
}
