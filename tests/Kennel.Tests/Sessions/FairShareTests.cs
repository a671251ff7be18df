using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Sessions;
using Kennel.Contracts.Workers;
using Kennel.Testing;

namespace Kennel.Tests.Sessions;

/// <summary>
/// The dispatcher shares workers fairly among the workspaces with work queued. A worker that speaks the real protocol
/// (and runs nothing) shows, poll by poll, which session each free slot goes to. Each test has a server of its own, so
/// no other test's queued sessions are in its queue.
/// </summary>
public sealed class FairShareTests
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task With_80_sessions_of_one_workspace_queued_another_workspace_starts_at_the_next_free_slot(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false });
        using var admin = server.Client();
        using var worker = await ProtocolWorker.EnrollAsync(admin, new WorkerCapacity(8, 8192, 2));
        using var flooder = await server.NewWorkspaceClientAsync();
        using var other = await server.NewWorkspaceClientAsync();
        var flood = new List<string>();
        for (var i = 0; i < 80; i++)
        {
            flood.Add((await flooder.RunScriptAsync($"echo {i}")).Id);
        }

        var first = await worker.PollAsync();
        first.Select(a => a.SessionId).ShouldBe(flood[..2]); // the fleet was idle: the flooder's oldest two take both slots
        var late = await other.RunScriptAsync("echo late");
        (await worker.PollAsync()).ShouldBeEmpty(); // no slot is free

        await worker.FinishAsync(flood[0]);
        (await worker.PollAsync()).Select(a => a.SessionId).ShouldBe([late.Id]);

        await worker.FinishAsync(flood[1]);
        (await worker.PollAsync()).Select(a => a.SessionId).ShouldBe([flood[2]]);
        (await other.GetSessionAsync(late.Id)).Status.ShouldBe(SessionStatus.Running);
    }

    [Fact]
    public async Task With_the_real_worker_a_session_queued_behind_80_of_another_workspace_starts_next()
    {
        await using var server = await TestServer.StartAsync(TestStore.Sqlite, s => s with { EmbeddedWorkerCapacity = new WorkerCapacity(8, 8192, 1) });
        using var flooder = await server.NewWorkspaceClientAsync();
        using var other = await server.NewWorkspaceClientAsync();
        var flood = new List<string>();
        for (var i = 0; i < 80; i++)
        {
            flood.Add((await flooder.RunScriptAsync("sleep 0.2")).Id);
        }

        var late = await other.RunScriptAsync("echo late");
        var done = await other.WaitAsync(late.Id);

        done.Status.ShouldBe(SessionStatus.Succeeded);
        // One slot: at most the flooder's session already claimed when the late one arrived started in between.
        var between = new List<string>();
        foreach (var id in flood)
        {
            var session = await flooder.GetSessionAsync(id);
            if (session.StartedAt is { } started && started > late.CreatedAt && started < done.StartedAt)
            {
                between.Add(id);
            }
        }
        between.Count.ShouldBeLessThanOrEqualTo(1);
        (await flooder.GetSessionAsync(flood[^1])).Status.ShouldBe(SessionStatus.Pending); // the flood is still queued
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Free_slots_go_to_the_workspace_with_the_fewest_sessions_running(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false });
        using var admin = server.Client();
        using var worker = await ProtocolWorker.EnrollAsync(admin, new WorkerCapacity(16, 16384, 6));
        using var a = await server.NewWorkspaceClientAsync();
        using var b = await server.NewWorkspaceClientAsync();
        using var c = await server.NewWorkspaceClientAsync();
        var sessions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (client, name) in new[] { (a, "a"), (b, "b"), (c, "c") })
        {
            for (var i = 0; i < 5; i++)
            {
                sessions[(await client.RunScriptAsync("true")).Id] = name;
            }
        }

        var assigned = await worker.PollAsync();

        // Six slots, three workspaces with five queued each: two each, not the first workspace's five and one more.
        assigned.GroupBy(s => sessions[s.SessionId]).ToDictionary(g => g.Key, g => g.Count())
            .ShouldBe(new Dictionary<string, int> { ["a"] = 2, ["b"] = 2, ["c"] = 2 }, ignoreOrder: true);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_session_too_big_for_what_is_free_waits_while_a_smaller_one_of_the_same_workspace_goes(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false });
        using var admin = server.Client();
        using var worker = await ProtocolWorker.EnrollAsync(admin, new WorkerCapacity(2, 8192, 4));
        using var tenant = await server.NewWorkspaceClientAsync();
        var big = await tenant.CreateSessionAsync(new CreateSessionRequest { Script = "true", Resources = new SessionResources { Vcpus = 4 } });
        var small = await tenant.RunScriptAsync("true");

        (await worker.PollAsync()).Select(s => s.SessionId).ShouldBe([small.Id]);
        (await tenant.GetSessionAsync(big.Id)).WorkerId.ShouldBeNull();
    }
}
