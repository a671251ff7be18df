using Dapper;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Observability;

/// <summary>
/// Traces reach an OTLP collector when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> names one, and a session's trace runs from
/// the API call that created it through its time in the queue to the worker's exit report.
/// </summary>
public sealed class TracingTests
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_session_traces_from_its_api_call_through_the_queue_to_the_workers_report(string store)
    {
        await using var collector = await OtlpReceiver.StartAsync();
        var server = await TestServer.StartAsync(store, s => s with
        {
            Telemetry = new Dictionary<string, string?>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Url.ToString().TrimEnd('/'),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_SERVICE_NAME"] = "kennel-under-test",
            },
        });
        string id;
        await using (server)
        {
            using var client = server.Client();
            id = (await client.RunScriptAsync("sleep 0.2")).Id;
            (await client.WaitAsync(id)).Status.ShouldBe(SessionStatus.Succeeded);
        } // stopping the server flushes its spans

        var ofSession = collector.Spans.Where(s => s.Attributes.GetValueOrDefault("kennel.session.id") == id).ToList();
        ofSession.Select(s => s.Name).Order().ShouldBe(["session create", "session queued", "session run"]);
        var traceId = ofSession.Select(s => s.TraceId).Distinct().ShouldHaveSingleItem();
        var create = ofSession.Single(s => s.Name == "session create");
        var apiCall = collector.Spans.Single(s => s.SpanId == create.ParentSpanId);
        apiCall.TraceId.ShouldBe(traceId);
        apiCall.Kind.ShouldBe(2); // SPAN_KIND_SERVER
        apiCall.Name.ShouldBe("POST /v1/sessions/");
        ofSession.Where(s => s.Name != "session create").ShouldAllBe(s => s.ParentSpanId == create.SpanId);
        ofSession.Single(s => s.Name == "session run").Attributes["kennel.session.status"].ShouldBe("succeeded");
    }

    [Fact]
    public async Task Without_an_otlp_endpoint_a_session_keeps_no_trace_context()
    {
        await using var server = await TestServer.StartAsync(TestStore.Sqlite, s => s with { EmbeddedWorker = false });
        var id = (await server.Client().RunScriptAsync("true")).Id;

        var traceParent = await server.Server.Database.ReadAsync(connection =>
            connection.ExecuteScalarAsync<string?>("SELECT trace_parent FROM sessions WHERE id = @id", new { id }), CancellationToken.None);

        traceParent.ShouldBeNull();
    }
}
