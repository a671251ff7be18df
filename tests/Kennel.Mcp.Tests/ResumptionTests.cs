using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using Kennel.Testing;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

// Event stores belong to stateful Streamable HTTP, which /mcp is.
#pragma warning disable MCP9006

namespace Kennel.Mcp.Tests;

/// <summary>Stream resumption (SEP-1699) at the real <c>/mcp</c>: a GET with <c>Last-Event-ID</c> replays what followed.</summary>
public sealed class ResumptionTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    private const string Initialize =
        """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";

    [Fact]
    public async Task A_get_with_last_event_id_replays_the_events_after_it()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = server.Client();
        using var initialized = await client.SendAsync(Post(Initialize));
        var sessionId = initialized.Headers.GetValues("Mcp-Session-Id").Single();
        using (await client.SendAsync(Post("""{"jsonrpc":"2.0","method":"notifications/initialized"}""", sessionId)))
        {
        }

        using var listed = await client.SendAsync(Post("""{"jsonrpc":"2.0","id":7,"method":"tools/list"}""", sessionId));
        var events = await ReadEventsAsync(listed);
        var priming = events.First();
        priming.Data.ShouldBeEmpty();
        priming.EventId.ShouldNotBeNullOrEmpty();
        events.ShouldContain(e => e.Data.Contains("\"id\":7", StringComparison.Ordinal));

        using var resumed = await client.SendAsync(Get(sessionId, priming.EventId!));
        resumed.StatusCode.ShouldBe(HttpStatusCode.OK);
        var replayed = await ReadEventsAsync(resumed);
        var answer = replayed.Single(e => e.Data.Length > 0);
        using var json = JsonDocument.Parse(answer.Data);
        json.RootElement.GetProperty("id").GetInt32().ShouldBe(7);
        json.RootElement.GetProperty("result").GetProperty("tools").GetArrayLength().ShouldBeGreaterThan(0);

        // An event no longer kept (or never written) is not replayed: the package's transport answers 400 "invalid or
        // expired" (the hand-written transport said 404; the specification names no status for it).
        using var unknown = await client.SendAsync(Get(sessionId, $"{sessionId}:999999"));
        unknown.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await unknown.Content.ReadAsStringAsync()).ShouldContain("Last-Event-ID");
    }

    [Fact]
    public async Task A_call_that_waits_sends_its_priming_event_before_the_answer()
    {
        // No workers here, so the session stays pending and wait-for-session waits until it is cancelled.
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = server.Client();
        using var initialized = await client.SendAsync(Post(Initialize));
        var sessionId = initialized.Headers.GetValues("Mcp-Session-Id").Single();
        using (await client.SendAsync(Post("""{"jsonrpc":"2.0","method":"notifications/initialized"}""", sessionId)))
        {
        }
        using var created = await client.SendAsync(Post(
            """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create-session","arguments":{"command":["echo","hi"]}}}""", sessionId));
        using var createdAnswer = JsonDocument.Parse((await ReadEventsAsync(created)).Single(e => e.Data.Length > 0).Data);
        var id = createdAnswer.RootElement.GetProperty("result").GetProperty("structuredContent").GetProperty("id").GetString();

        using var waiting = await client.SendAsync(Post(
            """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"wait-for-session","arguments":{"timeoutMs":300000,"id":""" + $"\"{id}\"}}}}}}", sessionId),
            HttpCompletionOption.ResponseHeadersRead);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var events = SseParser.Create(await waiting.Content.ReadAsStreamAsync(cancel.Token)).EnumerateAsync(cancel.Token).GetAsyncEnumerator(cancel.Token);
        (await events.MoveNextAsync()).ShouldBeTrue();
        events.Current.Data.ShouldBeEmpty();
        events.Current.EventId.ShouldNotBeNullOrEmpty();

        // The call is still waiting: only cancelling the session ends it, and its answer follows on the same stream.
        using (await client.SendAsync(Post(
            """{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"cancel-session","arguments":{"id":""" + $"\"{id}\"}}}}}}", sessionId)))
        {
        }
        (await events.MoveNextAsync()).ShouldBeTrue();
        using var answer = JsonDocument.Parse(events.Current.Data);
        answer.RootElement.GetProperty("id").GetInt32().ShouldBe(3);
        answer.RootElement.GetProperty("result").GetProperty("structuredContent").GetProperty("status").GetString().ShouldBe("cancelled");
    }

    [Fact]
    public async Task The_store_keeps_only_each_sessions_newest_events_and_nothing_once_the_session_ends()
    {
        var store = new McpEventStore(maxEventsPerSession: 3, maxBytesPerSession: long.MaxValue);
        store.Open("s");
        store.Open("t");
        await using var writer = await store.CreateStreamAsync(new SseEventStreamOptions { SessionId = "s", StreamId = "a" });
        await using var other = await store.CreateStreamAsync(new SseEventStreamOptions { SessionId = "t", StreamId = "a" });
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var written = await writer.WriteEventAsync(new SseItem<JsonRpcMessage?>(new JsonRpcNotification { Method = $"n{i}" }));
            ids.Add(written.EventId!);
        }
        var theirs = (await other.WriteEventAsync(new SseItem<JsonRpcMessage?>(new JsonRpcNotification { Method = "t0" }))).EventId!;
        store.Count("s").ShouldBe(3);
        store.Count("t").ShouldBe(1, "one session's events never push out another's");
        (await store.GetStreamReaderAsync(ids[0])).ShouldBeNull();
        var reader = (await store.GetStreamReaderAsync(ids[2]))!;
        reader.SessionId.ShouldBe("s");
        (await store.GetStreamReaderAsync(theirs))!.SessionId.ShouldBe("t");
        await writer.DisposeAsync();
        var replayed = new List<string>();
        await foreach (var item in reader.ReadEventsAsync())
        {
            replayed.Add(item.EventId!);
        }
        replayed.ShouldBe([ids[3], ids[4]]);

        store.Forget("s");
        store.Count("s").ShouldBe(0);
        (await store.GetStreamReaderAsync(ids[4])).ShouldBeNull();
        await using var late = await store.CreateStreamAsync(new SseEventStreamOptions { SessionId = "s", StreamId = "b" });
        await late.WriteEventAsync(new SseItem<JsonRpcMessage?>(new JsonRpcNotification { Method = "after the end" }));
        store.Count("s").ShouldBe(0, "a session that ended keeps nothing");

        var small = new McpEventStore(maxEventsPerSession: 100, maxBytesPerSession: 1);
        small.Open("s");
        var stream = await small.CreateStreamAsync(new SseEventStreamOptions { SessionId = "s", StreamId = "b" });
        await stream.WriteEventAsync(new SseItem<JsonRpcMessage?>(new JsonRpcNotification { Method = "one" }));
        await stream.WriteEventAsync(new SseItem<JsonRpcMessage?>(new JsonRpcNotification { Method = "two" }));
        small.Count("s").ShouldBe(1);
    }

    private static HttpRequestMessage Post(string json, string? sessionId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (sessionId is not null)
        {
            request.Headers.Add("Mcp-Session-Id", sessionId);
        }
        return request;
    }

    private static HttpRequestMessage Get(string sessionId, string lastEventId)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/mcp");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        request.Headers.Add("Mcp-Session-Id", sessionId);
        request.Headers.Add("Last-Event-ID", lastEventId);
        return request;
    }

    private static async Task<List<SseItem<string>>> ReadEventsAsync(HttpResponseMessage response)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var items = new List<SseItem<string>>();
        await foreach (var item in SseParser.Create(await response.Content.ReadAsStreamAsync(cancel.Token)).EnumerateAsync(cancel.Token))
        {
            items.Add(item);
        }
        return items;
    }
}
