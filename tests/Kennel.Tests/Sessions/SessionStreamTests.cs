using System.Text;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Sessions;

/// <summary><c>GET /v1/sessions/{id}/stream</c>: output as server-sent events while it runs, then the final session.</summary>
public sealed class SessionStreamTests(SharedServers servers, ServersWithoutWorkers idle)
    : IClassFixture<SharedServers>, IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Stream_yields_the_output_then_one_final_session_event(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();
        var session = await client.RunScriptAsync("echo one; sleep 0.5; echo two >&2; sleep 0.5; echo three; exit 4");

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await client.GetAsync($"/v1/sessions/{session.Id}/stream", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        response.EnsureSuccessStatusCode();
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        var events = await response.ReadEventsAsync(timeout.Token);

        events.Count.ShouldBeGreaterThanOrEqualTo(2);
        events[^1].Name.ShouldBe("session");
        events.Take(events.Count - 1).ShouldAllBe(e => e.Name == "output");
        var output = events.SkipLast(1).Select(e => JsonSerializer.Deserialize(e.Data, KennelJson.Default.SessionOutputEvent)!).ToList();
        Concat(output, "stdout").ShouldBe("one\nthree\n");
        Concat(output, "stderr").ShouldBe("two\n");
        var final = JsonSerializer.Deserialize(events[^1].Data, KennelJson.Default.Session)!;
        final.Id.ShouldBe(session.Id);
        final.Status.ShouldBe(SessionStatus.Failed);
        final.ExitCode.ShouldBe(4);
        final.Stdout.ShouldBe("one\nthree\n");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Stream_of_a_finished_session_replays_its_output(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();
        var session = await client.RunScriptAsync("echo héllo; echo oops >&2");
        await client.WaitAsync(session.Id);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await client.GetAsync($"/v1/sessions/{session.Id}/stream", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        var events = await response.ReadEventsAsync(timeout.Token);

        var output = events.Where(e => e.Name == "output").Select(e => JsonSerializer.Deserialize(e.Data, KennelJson.Default.SessionOutputEvent)!).ToList();
        Concat(output, "stdout").ShouldBe("héllo\n");
        Concat(output, "stderr").ShouldBe("oops\n");
        events.Count(e => e.Name == "session").ShouldBe(1);
        events[^1].Name.ShouldBe("session");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_stream_held_open_on_a_pending_session_ends_when_it_is_cancelled(string store)
    {
        var server = await idle.GetAsync(store);
        using var client = server.Client();
        var session = await client.RunScriptAsync("echo never");

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await client.GetAsync($"/v1/sessions/{session.Id}/stream", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        response.EnsureSuccessStatusCode();
        var reading = response.ReadEventsAsync(timeout.Token);
        await Task.Delay(300);
        reading.IsCompleted.ShouldBeFalse();
        await client.CancelAsync(session.Id);
        var events = await reading;

        events.Count.ShouldBe(1);
        events[0].Name.ShouldBe("session");
        JsonSerializer.Deserialize(events[0].Data, KennelJson.Default.Session)!.Status.ShouldBe(SessionStatus.Cancelled);
    }

    private static string Concat(IEnumerable<SessionOutputEvent> events, string stream) =>
        events.Where(e => e.Stream == stream).Aggregate(new StringBuilder(), (text, e) => text.Append(e.Data)).ToString();
}
