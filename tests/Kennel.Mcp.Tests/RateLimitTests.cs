using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Kennel.Contracts.ApiKeys;
using Kennel.Testing;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace Kennel.Mcp.Tests;

/// <summary>Servers as <c>KENNEL_MCP_RATE_LIMIT=8</c> starts them.</summary>
public sealed class ServersWithALowRateLimit() : McpServers(s => s with { Mcp = s.Mcp with { RateLimitPerMinute = RateLimitTests.Limit } });

/// <summary>Servers as <c>KENNEL_MCP_RATE_LIMIT=0</c> starts them.</summary>
public sealed class ServersWithoutARateLimit() : McpServers(s => s with { EmbeddedWorker = false, Mcp = s.Mcp with { RateLimitPerMinute = 0 } });

/// <summary>Each credential's request budget at <c>/mcp</c>, over real HTTP: what a client past it sees, and what it never costs.</summary>
public sealed class RateLimitTests(ServersWithALowRateLimit limited, ServersWithoutARateLimit unlimited)
    : IClassFixture<ServersWithALowRateLimit>, IClassFixture<ServersWithoutARateLimit>
{
    public const int Limit = 8;

    private const string Initialize =
        """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";

    [Fact]
    public async Task The_request_past_the_limit_is_429_with_Retry_After_and_another_key_is_not_held_up()
    {
        var server = await limited.GetAsync(TestStore.Sqlite);
        using var busy = server.Client(await server.NewKeyAsync(null, Scopes.Read));
        using var other = server.Client(await server.NewKeyAsync(null, Scopes.Read));

        for (var i = 1; i <= Limit; i++)
        {
            using var allowed = await busy.SendAsync(Post(Initialize));
            allowed.StatusCode.ShouldBe(HttpStatusCode.OK, $"request {i}");
        }
        using var refused = await busy.SendAsync(Post(Initialize));
        using var unaffected = await other.SendAsync(Post(Initialize));

        refused.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds.ShouldBeInRange(1, 60);
        refused.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var body = await refused.Content.ReadAsStringAsync();
        using var problem = JsonDocument.Parse(body);
        problem.RootElement.GetProperty("status").GetInt32().ShouldBe(429);
        problem.RootElement.GetProperty("code").GetString().ShouldBe("rate_limited");
        problem.RootElement.GetProperty("detail").GetString()!.ShouldContain($"{Limit} requests a minute");
        body.ShouldNotContain("   at ");
        unaffected.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_agent_endpoint_is_limited_too_in_one_budget_with_mcp()
    {
        var server = await limited.GetAsync(TestStore.Sqlite);
        var workspace = $"r-{Guid.NewGuid():N}"[..20];
        using var client = server.Client(await server.NewKeyAsync(workspace, Scopes.Read));

        for (var i = 1; i <= Limit; i++)
        {
            var agent = Post(Initialize);
            agent.RequestUri = new Uri($"/w/{workspace}/mcp", UriKind.Relative);
            using var allowed = await client.SendAsync(agent);
            allowed.StatusCode.ShouldBe(HttpStatusCode.OK, $"request {i}");
        }
        var past = Post(Initialize);
        past.RequestUri = new Uri($"/w/{workspace}/mcp", UriKind.Relative);
        using var refused = await client.SendAsync(past);
        using var fleet = await client.SendAsync(Post(Initialize));

        refused.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        refused.Headers.RetryAfter.ShouldNotBeNull();
        fleet.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests, "one credential has one budget");
    }

    [Fact]
    public async Task Requests_without_a_valid_key_are_refused_by_authentication_and_cost_the_key_nothing()
    {
        var server = await limited.GetAsync(TestStore.Sqlite);
        var key = await server.NewKeyAsync(null, Scopes.Read);
        // The real key's id with a wrong secret: a limiter that ran before authentication would charge it to that key.
        var forged = $"{key[..16]}{new string('z', 40)}";

        foreach (var credential in new string?[] { null, forged })
        {
            using var anonymous = server.Client(credential);
            for (var i = 0; i < 10; i++)
            {
                using var response = await anonymous.SendAsync(Post(Initialize));
                response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            }
        }

        using var owner = server.Client(key);
        for (var i = 1; i <= Limit; i++)
        {
            using var allowed = await owner.SendAsync(Post(Initialize));
            allowed.StatusCode.ShouldBe(HttpStatusCode.OK, $"request {i}");
        }
    }

    [Fact]
    public async Task A_limit_of_0_turns_the_limit_off()
    {
        var server = await unlimited.GetAsync(TestStore.Sqlite);
        using var client = server.Client(await server.NewKeyAsync(null, Scopes.Read));

        for (var i = 1; i <= 70; i++)
        {
            using var response = await client.SendAsync(Post(Initialize));
            response.StatusCode.ShouldBe(HttpStatusCode.OK, $"request {i}");
        }
    }

    [Fact]
    public async Task A_long_wait_for_session_costs_one_request_however_long_it_waits()
    {
        var server = await limited.GetAsync(TestStore.Sqlite);
        var requests = new RequestLog();
        await using var client = await McpClient.CreateAsync(new HttpClientTransport(
            new HttpClientTransportOptions
            {
                Endpoint = new Uri(server.Url, "/mcp"),
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {await server.NewKeyAsync(null, Scopes.Read, Scopes.Write)}" },
            },
            new HttpClient(requests), loggerFactory: null, ownsHttpClient: true));
        var session = (await client.CallAsync("create-session", """{"script": "for i in 1 2 3; do echo $i; sleep 1; done"}""")).Session();
        var progress = new ProgressLog();

        var before = requests.Sent.ToList();
        var started = System.Diagnostics.Stopwatch.StartNew();
        var waited = (await client.CallAsync("wait-for-session", $$"""{"id": "{{session.Id}}", "timeoutMs": 60000}""", progress)).Session();
        var elapsed = started.Elapsed;
        var during = requests.Sent.Skip(before.Count).ToList();

        waited.Stdout.ShouldBe("1\n2\n3\n");
        elapsed.ShouldBeGreaterThan(TimeSpan.FromSeconds(2));
        progress.Reports.ShouldNotBeEmpty(); // progress flows during the wait (how many depends on the machine's load)
        during.ShouldBe(["POST tools/call"]);
        // The server counted what the client sent: the budget left is the limit less exactly those requests.
        var left = 0;
        while (await GetSucceedsAsync(client, session.Id))
        {
            left++;
        }
        left.ShouldBe(Limit - before.Count - 1);
    }

    private static async Task<bool> GetSucceedsAsync(McpClient client, string id)
    {
        try
        {
            (await client.CallAsync("get-session", $$"""{"id": "{{id}}"}""")).Session();
            return true;
        }
        catch (HttpRequestException refused) when (refused.StatusCode == HttpStatusCode.TooManyRequests)
        {
            return false;
        }
    }

    private static HttpRequestMessage Post(string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return request;
    }

    /// <summary>The HTTP requests the SDK client sends (method, and JSON-RPC method of a POST): what the server's limiter counts.</summary>
    private sealed class RequestLog() : DelegatingHandler(new HttpClientHandler())
    {
        public ConcurrentQueue<string> Sent { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var method = "";
            if (request.Content is not null)
            {
                using var body = JsonDocument.Parse(await request.Content.ReadAsStringAsync(cancellationToken));
                method = body.RootElement.TryGetProperty("method", out var m) ? $" {m.GetString()}" : "";
            }
            Sent.Enqueue($"{request.Method}{method}");
            return await base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class ProgressLog : IProgress<ProgressNotificationValue>
    {
        public ConcurrentQueue<ProgressNotificationValue> Reports { get; } = new();

        public void Report(ProgressNotificationValue value) => Reports.Enqueue(value);
    }
}
