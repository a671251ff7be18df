using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;
using Kennel.Contracts.Snapshots;
using Kennel.Testing;

namespace Kennel.Tests.Snapshots;

/// <summary>Names, tags and their history: what sessions and daemons resolve, moves recorded and rolled back, deletes refused while in use.</summary>
[Collection(SnapshotApi.Collection)]
public sealed class SnapshotTagTests(SnapshotServers servers) : IClassFixture<SnapshotServers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_moved_tag_is_recorded_and_rolled_back_and_a_session_records_the_digest_it_ran_on(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var first = await client.BuildAsync("tools", SnapshotApi.Minbase + "\nrun: [echo 1 > /opt/version]\n", "stable", "latest");
        var second = await client.BuildAsync("tools", SnapshotApi.Minbase + "\nrun: [echo 2 > /opt/version]\n", "stable", "latest");
        first.Status.ShouldBe("ready", first.Log);
        second.Status.ShouldBe("ready", second.Log);

        (await RunAsync(client, "tools:stable")).ShouldBe(("2", second.Digest));
        (await RunAsync(client, "tools")).ShouldBe(("2", second.Digest), "a bare name is its latest tag");
        (await RunAsync(client, $"tools@{first.Digest}")).ShouldBe(("1", first.Digest));

        using var rolled = await client.PostAsync("/v1/snapshots/tags/tools/stable/rollback", null);
        var history = (await rolled.Content.ReadFromJsonAsync(KennelJson.Default.SnapshotTagHistory))!;
        history.SnapshotId.ShouldBe(first.Id);
        history.Events.Select(e => (e.Reason, e.SnapshotId, e.PreviousSnapshotId)).ShouldBe(
            [("rollback", first.Id, second.Id), ("build", second.Id, first.Id), ("build", first.Id, null)]);
        (await RunAsync(client, "tools:stable")).ShouldBe(("1", first.Digest));

        using var tagged = await client.PutAsJsonAsync("/v1/snapshots/tags/tools/prod", new TagSnapshotRequest { Snapshot = second.Id },
            KennelJson.Default.TagSnapshotRequest);
        ((int)tagged.StatusCode).ShouldBe(200, await tagged.Content.ReadAsStringAsync());
        (await RunAsync(client, "tools:prod")).ShouldBe(("2", second.Digest));
        using var nothingBefore = await client.PostAsync("/v1/snapshots/tags/tools/prod/rollback", null);
        (await nothingBefore.ReadProblemAsync()).Code.ShouldBe("nothing_to_roll_back");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_unknown_snapshot_is_refused_never_replaced_by_another(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        using var other = await server.NewWorkspaceClientAsync();
        var theirs = await other.BuildAsync("private", SnapshotApi.Minbase);
        theirs.Status.ShouldBe("ready", theirs.Log);

        foreach (var name in new[] { "ghost", "ghost:1", "private", $"private@{theirs.Digest}", "Not A Name" })
        {
            using var session = await client.PostRawAsync("/v1/sessions", $$"""{"snapshot": "{{name}}", "script": "true"}""");
            var problem = await session.ReadProblemAsync();
            problem.Code.ShouldBe("snapshot_not_found", name);
            problem.Field.ShouldBe("snapshot");
        }
        using var daemon = await client.PostRawAsync("/v1/daemons",
            """{"name": "d", "snapshot": "ghost", "workload": {"script": "true"}, "trigger": {"type": "webhook", "signature": "none"}}""");
        (await daemon.ReadProblemAsync()).Code.ShouldBe("snapshot_not_found");
        using var notTheirs = await client.GetAsync($"/v1/snapshots/{theirs.Id}");
        ((int)notTheirs.StatusCode).ShouldBe(404, "another workspace's build is not even seen");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_snapshot_a_daemon_uses_cannot_be_deleted_until_the_daemon_moves(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var built = await client.BuildAsync("daemonbase", SnapshotApi.Minbase, "v1");
        built.Status.ShouldBe("ready", built.Log);
        using (var daemon = await client.PostRawAsync("/v1/daemons",
            """{"name": "nightly", "snapshot": "daemonbase:v1", "workload": {"script": "true"}, "trigger": {"type": "webhook", "signature": "none"}}"""))
        {
            ((int)daemon.StatusCode).ShouldBe(201, await daemon.Content.ReadAsStringAsync());
        }

        using var refused = await client.DeleteAsync($"/v1/snapshots/{built.Id}");
        var problem = await refused.ReadProblemAsync();
        problem.Code.ShouldBe("snapshot_in_use");
        problem.Detail!.ShouldContain("nightly");

        (await client.DeleteAsync("/v1/daemons/nightly")).Dispose();
        using var deleted = await client.DeleteAsync($"/v1/snapshots/{built.Id}");
        ((int)deleted.StatusCode).ShouldBe(204, await deleted.Content.ReadAsStringAsync());
        using var session = await client.PostRawAsync("/v1/sessions", """{"snapshot": "daemonbase:v1", "script": "true"}""");
        (await session.ReadProblemAsync()).Code.ShouldBe("snapshot_not_found");
    }

    private static async Task<(string Version, string? Digest)> RunAsync(HttpClient client, string snapshot)
    {
        var session = await client.CreateSessionAsync(new CreateSessionRequest { Snapshot = snapshot, Script = "cat /opt/version" });
        var done = await client.WaitAsync(session.Id);
        done.Status.ShouldBe(SessionStatus.Succeeded, done.Stderr);
        return (done.Stdout.Trim(), done.SnapshotDigest);
    }
}
