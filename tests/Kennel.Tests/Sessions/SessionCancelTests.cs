using System.Net;
using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Sessions;

/// <summary>Cancel and wait as real operations: a cancel reaches the workload, and a wait gives up when told to.</summary>
public sealed class SessionCancelTests(SharedServers servers, ServersWithoutWorkers idle)
    : IClassFixture<SharedServers>, IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Cancel_of_a_running_session_kills_it_and_reports_cancelled(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();
        var session = await client.RunScriptAsync("echo started; sleep 60; echo never");
        await client.WaitForStatusAsync(session.Id, SessionStatus.Running);

        var cancelledAt = DateTimeOffset.UtcNow;
        var accepted = await client.CancelAsync(session.Id);
        accepted.Id.ShouldBe(session.Id);
        var done = await client.WaitAsync(session.Id, TimeSpan.FromSeconds(15));

        done.Status.ShouldBe(SessionStatus.Cancelled);
        done.EndedAt.ShouldNotBeNull();
        (done.EndedAt!.Value - cancelledAt).ShouldBeLessThan(TimeSpan.FromSeconds(5));
        done.Stdout.ShouldNotContain("never");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Cancel_kills_a_workload_that_ignores_signals_and_its_children(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();
        var session = await client.RunScriptAsync("trap '' TERM INT HUP; (trap '' TERM INT HUP; sleep 60) & sleep 60 & echo up; wait");
        await client.WaitForStatusAsync(session.Id, SessionStatus.Running);
        await WaitForOutputAsync(client, session.Id, "up\n");

        var cancelledAt = DateTimeOffset.UtcNow;
        await client.CancelAsync(session.Id);
        var done = await client.WaitAsync(session.Id, TimeSpan.FromSeconds(15));

        done.Status.ShouldBe(SessionStatus.Cancelled);
        (done.EndedAt!.Value - cancelledAt).ShouldBeLessThan(TimeSpan.FromSeconds(5));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Cancel_of_a_pending_session_with_no_worker_cancels_it_at_once(string store)
    {
        var server = await idle.GetAsync(store);
        using var client = server.Client();
        var session = await client.RunScriptAsync("echo never");

        var cancelled = await client.CancelAsync(session.Id);

        cancelled.Status.ShouldBe(SessionStatus.Cancelled);
        cancelled.EndedAt.ShouldNotBeNull();
        cancelled.StartedAt.ShouldBeNull();
        cancelled.WorkerId.ShouldBeNull();
        (await client.GetSessionAsync(session.Id)).Status.ShouldBe(SessionStatus.Cancelled);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Cancel_of_a_finished_session_is_a_conflict_and_changes_nothing(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();
        var session = await client.CreateSessionAsync(new CreateSessionRequest { Command = ["echo", "done"] });
        var done = await client.WaitAsync(session.Id);
        done.Status.ShouldBe(SessionStatus.Succeeded);

        using var response = await client.PostAsync($"/v1/sessions/{session.Id}/cancel", null);

        await response.ShouldBeProblemAsync(409, "session_finished");
        var after = await client.GetSessionAsync(session.Id);
        after.Status.ShouldBe(SessionStatus.Succeeded);
        after.EndedAt.ShouldBe(done.EndedAt);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Cancelling_twice_is_accepted_then_a_conflict(string store)
    {
        var server = await idle.GetAsync(store);
        using var client = server.Client();
        var session = await client.RunScriptAsync("echo never");
        await client.CancelAsync(session.Id);

        using var again = await client.PostAsync($"/v1/sessions/{session.Id}/cancel", null);

        await again.ShouldBeProblemAsync(409, "session_finished");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Wait_with_a_short_timeout_returns_the_session_still_live(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();
        var session = await client.RunScriptAsync("sleep 60");

        using var response = await client.GetAsync($"/v1/sessions/{session.Id}/wait?timeoutMs=200");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var waited = (await response.Content.ReadFromJsonAsync(KennelJson.Default.Session))!;
        waited.Id.ShouldBe(session.Id);
        waited.Status.ShouldBeOneOf(SessionStatus.Pending, SessionStatus.Running);
        waited.EndedAt.ShouldBeNull();
        await client.CancelAsync(session.Id);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Wait_returns_as_soon_as_the_session_ends(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();
        var session = await client.RunScriptAsync("sleep 0.5; echo woke");

        using var response = await client.GetAsync($"/v1/sessions/{session.Id}/wait?timeoutMs=60000");
        var waited = (await response.Content.ReadFromJsonAsync(KennelJson.Default.Session))!;

        waited.Status.ShouldBe(SessionStatus.Succeeded);
        waited.Stdout.ShouldBe("woke\n");
    }

    private static async Task WaitForOutputAsync(HttpClient client, string id, string stdout)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while ((await client.GetSessionAsync(id)).Stdout != stdout)
        {
            DateTimeOffset.UtcNow.ShouldBeLessThan(deadline, $"session {id} never printed {stdout}");
            await Task.Delay(50);
        }
    }
}
