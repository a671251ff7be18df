using System.Net;
using Kennel.Mcp.Tests.Conformance;
using static Kennel.Mcp.Tests.RawMcp;

namespace Kennel.Mcp.Tests;

/// <summary>
/// An endpoint mapped with <see cref="McpEndpoint.Stateless"/>, beside a stateful one in the same application: no
/// session, so any replica can answer any request, and the stateful endpoint keeps its sessions.
/// </summary>
public sealed class StatelessTests
{
    [Fact]
    public async Task A_stateless_endpoint_answers_without_a_session_and_has_no_GET_stream()
    {
        await using var fixtures = await FixturesServer.StartAsync();
        using var client = new HttpClient();

        using var initialized = await client.SendAsync(At(fixtures.StatelessUrl, Post(Initialize)));
        initialized.StatusCode.ShouldBe(HttpStatusCode.OK);
        initialized.Headers.Contains("Mcp-Session-Id").ShouldBeFalse();
        (await ReadEventAsync(initialized)).GetProperty("result").GetProperty("serverInfo").GetProperty("name").GetString().ShouldBe("kennel-conformance-fixtures");

        using var listed = await client.SendAsync(At(fixtures.StatelessUrl, Post(ListTools)));
        listed.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ReadEventAsync(listed)).GetProperty("result").GetProperty("tools").GetArrayLength().ShouldBeGreaterThan(0);

        using var get = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, fixtures.StatelessUrl) { Headers = { { "Accept", "text/event-stream" } } });
        get.StatusCode.ShouldBe(HttpStatusCode.MethodNotAllowed);

        using var stateful = await client.SendAsync(At(fixtures.Url, Post(Initialize)));
        stateful.Headers.GetValues("Mcp-Session-Id").Single().ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task Bad_text_in_a_stateless_call_is_still_the_tools_invalid_arguments()
    {
        await using var fixtures = await FixturesServer.StartAsync();
        using var client = new HttpClient();

        using var called = await client.SendAsync(At(fixtures.StatelessUrl,
            Post("""{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"test_simple_text","arguments":{"x":"a\u0000"}}}""")));

        var result = (await ReadEventAsync(called)).GetProperty("result");
        result.GetProperty("isError").GetBoolean().ShouldBeTrue();
        result.GetProperty("content")[0].GetProperty("text").GetString()!.ShouldContain("invalid_arguments");
    }

    [Fact]
    public async Task A_stateless_answer_is_one_json_body_unless_the_call_streams_progress()
    {
        await using var fixtures = await FixturesServer.StartAsync();
        using var client = new HttpClient();

        using var plain = await client.SendAsync(At(fixtures.StatelessUrl,
            Post("""{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"test_tool_with_progress","arguments":{}}}""")));
        plain.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        plain.Content.Headers.ContentLength.ShouldNotBeNull();
        (await ReadEventAsync(plain)).GetProperty("id").GetInt32().ShouldBe(4);

        using var streamed = await client.SendAsync(At(fixtures.StatelessUrl,
            Post("""{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"test_tool_with_progress","arguments":{},"_meta":{"progressToken":"p1"}}}""")));
        streamed.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        var events = (await streamed.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        events.Count(e => e.Contains("notifications/progress", StringComparison.Ordinal)).ShouldBe(3);
        events[^1].ShouldContain("\"id\":5");
    }

    private static HttpRequestMessage At(Uri url, HttpRequestMessage request)
    {
        request.RequestUri = url;
        return request;
    }
}
