using Kennel.Contracts;
using Kennel.Contracts.Daemons;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Daemons;

/// <summary>What a trigger does while the daemon's previous run is still live: allow overlaps, skip drops, queue waits.</summary>
public sealed class ConcurrencyTests(ServersWithoutWorkers idle, SharedServers working) : IClassFixture<ServersWithoutWorkers>, IClassFixture<SharedServers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Allow_starts_a_run_for_every_trigger(string store)
    {
        var server = await idle.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        await client.CreateDaemonAsync(DaemonApi.Webhook("overlapping", "true", signature: "none") with { Concurrency = "allow" });

        var first = await client.TriggerDaemonAsync("overlapping");
        var second = await client.TriggerDaemonAsync("overlapping");

        first.Outcome.ShouldBe("started");
        second.Outcome.ShouldBe("started");
        second.SessionId.ShouldNotBe(first.SessionId);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Skip_drops_a_trigger_while_a_run_is_live_and_takes_the_next_one_after(string store)
    {
        var server = await idle.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        await client.CreateDaemonAsync(DaemonApi.Webhook("single", "true", signature: "none") with { Concurrency = "skip" });

        var first = await client.TriggerDaemonAsync("single");
        using var skippedResponse = await client.PostRawAsync("/v1/daemons/single/trigger", "{}");
        ((int)skippedResponse.StatusCode).ShouldBe(200);
        var skipped = (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync(skippedResponse.Content, KennelJson.Default.DaemonTriggerResult))!;
        skipped.Outcome.ShouldBe("skipped");
        skipped.SessionId.ShouldBeNull();
        (await client.GetDaemonAsync("single")).Totals!.Sessions.ShouldBe(1);

        await client.CancelAsync(first.SessionId!);
        (await client.TriggerDaemonAsync("single")).Outcome.ShouldBe("started");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Queue_runs_triggers_one_after_another_in_order(string store)
    {
        var server = await working.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        await client.CreateDaemonAsync(DaemonApi.Webhook("in-turn", "cat $KENNEL_TRIGGER_PAYLOAD; sleep 0.3", signature: "none") with { Concurrency = "queue" });

        var results = new List<DaemonTriggerResult>();
        for (var i = 0; i < 3; i++)
        {
            results.Add(await client.TriggerDaemonAsync("in-turn", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        results[0].Outcome.ShouldBe("started");
        results.Skip(1).ShouldAllBe(r => r.Outcome == "queued");
        var sessions = new List<Session>();
        foreach (var result in results)
        {
            sessions.Add(await client.WaitAsync(result.SessionId!));
        }
        sessions.Select(s => s.Stdout).ShouldBe(["0", "1", "2"]);
        sessions.ShouldAllBe(s => s.Status == SessionStatus.Succeeded);
        for (var i = 1; i < sessions.Count; i++)
        {
            // Never overlapping: each started only once the one before it had ended.
            sessions[i].StartedAt!.Value.ShouldBeGreaterThanOrEqualTo(sessions[i - 1].EndedAt!.Value.AddMilliseconds(-50));
        }
    }
}
