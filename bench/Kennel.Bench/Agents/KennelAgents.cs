using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Kennel.Bench.Agents;

/// <summary>
/// A real <c>kennel serve</c> whose installation provider (<c>OPENAI_BASE_URL</c>) is the benchmark's
/// <see cref="LocalProvider"/>, driven over the REST API as <c>kennel chat</c> drives it.
/// </summary>
internal sealed class KennelAgents : IAsyncDisposable
{
    private readonly ServeProcess server;
    private readonly string dataDir;

    private KennelAgents(ServeProcess server, string dataDir, HttpClient http)
    {
        this.server = server;
        this.dataDir = dataDir;
        Http = http;
    }

    public HttpClient Http { get; }

    public string DataDir => dataDir;

    public static async Task<KennelAgents> StartAsync(LocalProvider provider)
    {
        var dataDir = Directory.CreateTempSubdirectory("kennel-bench-agents-").FullName;
        var port = ProcFs.FreePort();
        var server = ServeProcess.Start(new Dictionary<string, string>
        {
            ["KENNEL_LISTEN"] = $"127.0.0.1:{port}",
            ["KENNEL_DATA_DIR"] = dataDir,
            ["OPENAI_BASE_URL"] = provider.Url.ToString(),
            ["OPENAI_API_KEY"] = "sk-local",
        });
        await server.WaitUntilListeningAsync();
        var key = (await File.ReadAllTextAsync(Path.Combine(dataDir, "admin-api-key"))).Trim();
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return new KennelAgents(server, dataDir, http);
    }

    public double RssMegabytes() => server.RssMegabytes();

    public int ProcessId => server.Id;

    /// <summary>
    /// One turn: <paramref name="message"/> to agent <c>main</c> in the conversation keyed <paramref name="key"/> (made on
    /// first use), waiting for the answer, which must have taken <paramref name="toolSteps"/> tool calls. Returns the client's
    /// time in ms.
    /// </summary>
    public async Task<double> TurnAsync(string key, string message, int toolSteps = 0)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await Http.PostAsJsonAsync($"v1/conversations/{key}/messages?waitMs=120000", new { message });
        var body = await response.Content.ReadAsStringAsync();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        using var run = JsonDocument.Parse(body);
        if (!response.IsSuccessStatusCode || run.RootElement.GetProperty("status").GetString() != "succeeded"
            || run.RootElement.GetProperty("toolSteps").GetInt32() != toolSteps)
        {
            throw new InvalidOperationException($"Kennel turn failed: {(int)response.StatusCode} {body[..Math.Min(400, body.Length)]}");
        }
        return elapsed;
    }

    /// <summary>Creates conversations (no turns) until the workspace holds <paramref name="count"/>, 16 at a time.</summary>
    public async Task CreateConversationsAsync(int count, int existing, string prefix)
    {
        var next = existing;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                using var response = await Http.PostAsJsonAsync("v1/conversations", new { key = $"{prefix}-{next}", label = $"bench {next}" });
                response.EnsureSuccessStatusCode();
            }
        }));
    }

    /// <summary>The first page (50, newest activity first) of the conversation list; returns the client's time in ms.</summary>
    public async Task<double> ListConversationsAsync()
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await Http.GetAsync("v1/conversations?limit=50");
        var body = await response.Content.ReadAsStringAsync();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        using var page = JsonDocument.Parse(body);
        if (page.RootElement.GetProperty("items").GetArrayLength() != 50)
        {
            throw new InvalidOperationException($"The conversation list did not hold a full page: {body[..Math.Min(300, body.Length)]}");
        }
        return elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await server.StopAsync();
        server.Dispose();
        Directory.Delete(dataDir, recursive: true);
    }
}
