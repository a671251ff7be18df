using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Kennel.Testing;

namespace Kennel.Mcp.Tests;

/// <summary>Servers as <c>KENNEL_MCP_ALLOWED_ORIGINS=https://app.example</c> starts them.</summary>
public sealed class ServersWithAnAllowedOrigin() : McpServers(s => s with { EmbeddedWorker = false, Mcp = s.Mcp with { AllowedOrigins = [CorsTests.Allowed] } });

/// <summary>What a browser page meets at <c>/mcp</c>: CORS answers for the allowed origins, nothing for the others.</summary>
public sealed class CorsTests(ServersWithAnAllowedOrigin servers) : IClassFixture<ServersWithAnAllowedOrigin>
{
    public const string Allowed = "https://app.example";

    private const string Initialize =
        """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"browser","version":"1"}}}""";

    [Theory]
    [InlineData("POST")]
    [InlineData("GET")]
    [InlineData("DELETE")]
    public async Task A_preflight_from_an_allowed_origin_is_answered_without_a_key(string method)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var browser = server.Client(null);

        using var preflight = await browser.SendAsync(Preflight(Allowed, method,
            "authorization, content-type, accept, mcp-session-id, mcp-protocol-version, last-event-id"));

        preflight.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        preflight.Headers.GetValues("Access-Control-Allow-Origin").Single().ShouldBe(Allowed);
        HeaderList(preflight, "Access-Control-Allow-Methods").ShouldBe(["POST", "GET", "DELETE"], ignoreOrder: true);
        HeaderList(preflight, "Access-Control-Allow-Headers").ShouldBe(
            ["Authorization", "Content-Type", "Accept", "Mcp-Session-Id", "MCP-Protocol-Version", "Last-Event-ID"], ignoreOrder: true);
        preflight.Headers.Contains("Access-Control-Max-Age").ShouldBeTrue();
    }

    [Fact]
    public async Task A_request_from_an_allowed_origin_may_read_the_session_id()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var browser = server.Client();

        using var response = await browser.SendAsync(Post(Allowed));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Headers.GetValues("Mcp-Session-Id").Single().ShouldNotBeNullOrEmpty();
        response.Headers.GetValues("Access-Control-Allow-Origin").Single().ShouldBe(Allowed);
        HeaderList(response, "Access-Control-Expose-Headers").ShouldContain("Mcp-Session-Id");
    }

    [Fact]
    public async Task A_401_to_an_allowed_origin_is_readable_so_the_page_can_see_the_challenge()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var browser = server.Client(null);

        using var response = await browser.SendAsync(Post(Allowed));

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Headers.GetValues("Access-Control-Allow-Origin").Single().ShouldBe(Allowed);
        HeaderList(response, "Access-Control-Expose-Headers").ShouldContain("WWW-Authenticate");
    }

    [Fact]
    public async Task Another_origin_gets_no_CORS_headers_and_its_requests_are_403()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var browser = server.Client();
        const string evil = "https://evil.example";

        using var preflight = await browser.SendAsync(Preflight(evil, "POST", "authorization, content-type"));
        using var request = await browser.SendAsync(Post(evil));

        preflight.Headers.Where(h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase)).ShouldBeEmpty();
        request.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        request.Headers.Where(h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase)).ShouldBeEmpty();
    }

    private static HttpRequestMessage Preflight(string origin, string method, string headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/mcp");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", headers);
        return request;
    }

    private static HttpRequestMessage Post(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(Initialize, Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        request.Headers.Add("Origin", origin);
        return request;
    }

    private static string[] HeaderList(HttpResponseMessage response, string name) =>
        [.. response.Headers.GetValues(name).SelectMany(value => value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))];
}
