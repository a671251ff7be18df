using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Kennel.Contracts.ApiKeys;
using Kennel.Testing;
using static Kennel.Mcp.Tests.RawMcp;

namespace Kennel.Mcp.Tests;

/// <summary>The Streamable HTTP rules at <c>/mcp</c>, checked with a plain HTTP client the way a hand-written client would meet them.</summary>
public sealed class ProtocolTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Fact]
    public async Task Without_a_valid_key_the_answer_is_401_with_a_bearer_challenge()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        foreach (var key in new string?[] { null, "kn_not_a_real_key" })
        {
            using var client = server.Client(key);
            using var response = await client.SendAsync(Post(Initialize));
            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            response.Headers.WwwAuthenticate.ToString().ShouldStartWith("Bearer");
        }
    }

    [Fact]
    public async Task Initialize_opens_a_session_and_later_requests_need_its_id()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = server.Client();

        using var initialized = await client.SendAsync(Post(Initialize));
        initialized.StatusCode.ShouldBe(HttpStatusCode.OK);
        initialized.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        var sessionId = initialized.Headers.GetValues("Mcp-Session-Id").Single();
        sessionId.Length.ShouldBeGreaterThanOrEqualTo(22);
        var result = await ReadEventAsync(initialized);
        result.GetProperty("result").GetProperty("protocolVersion").GetString().ShouldBe("2025-11-25");
        result.GetProperty("result").GetProperty("serverInfo").GetProperty("name").GetString().ShouldBe("kennel");

        using (var notified = await client.SendAsync(Post("""{"jsonrpc":"2.0","method":"notifications/initialized"}""", sessionId)))
        {
            notified.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }
        using (var listed = await client.SendAsync(Post(ListTools, sessionId)))
        {
            listed.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await ReadEventAsync(listed)).GetProperty("result").GetProperty("tools").GetArrayLength().ShouldBe(21, "the admin key sees every fleet tool: 9 for sessions, snapshots and the fleet, 7 for daemons and cost, 5 for servers");
        }
        using (var missing = await client.SendAsync(Post(ListTools)))
        {
            missing.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        }
        using (var unknown = await client.SendAsync(Post(ListTools, "no-such-session")))
        {
            unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        using (var ended = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/mcp") { Headers = { { "Mcp-Session-Id", sessionId } } }))
        {
            ended.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        using var afterEnd = await client.SendAsync(Post(ListTools, sessionId));
        afterEnd.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_session_belongs_to_the_key_and_the_endpoint_that_opened_it()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var owner = server.Client();
        using var other = server.Client(await server.NewKeyAsync("default", Scopes.Read));
        var sessionId = await OpenSessionAsync(owner);
        (await OpenSessionAsync(owner)).ShouldNotBe(sessionId);

        using (var stolen = await other.SendAsync(Post(ListTools, sessionId)))
        {
            stolen.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }
        using (var stolenStream = await other.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/mcp") { Headers = { { "Mcp-Session-Id", sessionId }, { "Accept", "text/event-stream" } } }))
        {
            stolenStream.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }
        using (var ended = await other.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/mcp") { Headers = { { "Mcp-Session-Id", sessionId } } }))
        {
            ended.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }
        var elsewhere = Post(ListTools, sessionId);
        elsewhere.RequestUri = new Uri("/w/default/mcp", UriKind.Relative);
        using (var otherEndpoint = await owner.SendAsync(elsewhere))
        {
            // The agent endpoint is stateless: it issued no session id, and refuses one.
            otherEndpoint.StatusCode.ShouldBe(HttpStatusCode.BadRequest, "the same key at another endpoint does not continue the session");
            (await otherEndpoint.Content.ReadAsStringAsync()).ShouldNotContain("list-sessions");
        }

        using var stillThere = await owner.SendAsync(Post(ListTools, sessionId));
        stillThere.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_stream_of_server_messages_opens_with_GET()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = server.Client();
        using var initialized = await client.SendAsync(Post(Initialize));
        var sessionId = initialized.Headers.GetValues("Mcp-Session-Id").Single();

        var get = new HttpRequestMessage(HttpMethod.Get, "/mcp") { Headers = { { "Mcp-Session-Id", sessionId }, { "Accept", "text/event-stream" } } };
        using var stream = await client.SendAsync(get, HttpCompletionOption.ResponseHeadersRead);
        stream.StatusCode.ShouldBe(HttpStatusCode.OK);
        stream.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");

        using var noSession = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/mcp") { Headers = { { "Accept", "text/event-stream" } } });
        noSession.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("text/html")]
    [InlineData("application/json")]
    [InlineData("text/event-stream")]
    public async Task An_Accept_header_without_JSON_and_event_streams_is_406(string accept)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = server.Client();
        var request = Post(Initialize);
        request.Headers.Accept.Clear();
        request.Headers.Accept.ParseAdd(accept);

        using var response = await client.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.NotAcceptable);
    }

    [Fact]
    public async Task An_unsupported_protocol_version_header_is_400()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = server.Client();
        var request = Post(Initialize);
        request.Headers.Add("MCP-Protocol-Version", "1999-01-01");

        using var response = await client.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).ShouldContain("1999-01-01");
    }

    [Fact]
    public async Task Browsers_from_other_origins_are_refused_and_same_origin_loopback_is_allowed()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = server.Client();

        foreach (var origin in new[] { "https://evil.example", "http://localhost.evil.example", "null", $"http://127.0.0.1:{server.Url.Port + 1}" })
        {
            var request = Post(Initialize);
            request.Headers.Add("Origin", origin);
            using var refused = await client.SendAsync(request);
            refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden, origin);
        }

        var sameOrigin = Post(Initialize);
        sameOrigin.Headers.Add("Origin", $"http://127.0.0.1:{server.Url.Port}");
        using var allowed = await client.SendAsync(sameOrigin);
        allowed.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_body_that_is_not_JSON_RPC_is_400()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = server.Client();

        using var response = await client.SendAsync(Post("{not json"));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_body_sent_as_anything_but_JSON_is_415()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = server.Client();
        var request = Post(Initialize);
        request.Content!.Headers.ContentType = new MediaTypeHeaderValue("text/plain");

        using var response = await client.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task A_worker_credential_cannot_use_MCP()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = server.Client("kw_aaaaaaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");

        using var response = await client.SendAsync(Post(Initialize));

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }
}
