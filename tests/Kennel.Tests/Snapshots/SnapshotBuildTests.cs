using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Snapshots;

/// <summary>
/// Snapshots built from recipes, end to end with the real builder (debootstrap, bubblewrap build steps, GNU tar images)
/// and the real embedded worker booting the result.
/// </summary>
[Collection(SnapshotApi.Collection)]
public sealed class SnapshotBuildTests(SnapshotServers servers) : IClassFixture<SnapshotServers>
{
    [Fact]
    public async Task A_debootstrap_snapshot_with_python_runs_a_session_that_sees_its_own_usr_and_not_the_hosts()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = await server.NewWorkspaceClientAsync();

        var built = await client.BuildAsync("python", SnapshotApi.Minbase + """

            packages: [python3]
            files:
              - {path: /etc/motd-kennel, content: "from the recipe\n", mode: "0644"}
            env: {GREETING: hello}
            workdir: /opt
            """, "3.11");

        built.Status.ShouldBe("ready", built.Log);
        built.Digest.ShouldStartWith("sha256:");
        built.Tags.ShouldBe(["3.11"]);
        built.Log!.ShouldContain("==> step 2/3 packages python3: running");
        var session = await client.CreateSessionAsync(new CreateSessionRequest
        {
            Snapshot = "python:3.11",
            Script = "python3 -c 'import sys; print(sys.version)' && pwd && echo $GREETING && cat /etc/motd-kennel && test ! -e /usr/bin/bwrap && echo no-host-usr",
        });
        var done = await client.WaitAsync(session.Id);

        done.Status.ShouldBe(SessionStatus.Succeeded, done.Stderr);
        done.Stdout.ShouldStartWith("3.11.");
        done.Stdout.ShouldContain("/opt\nhello\nfrom the recipe\nno-host-usr\n");
        done.SnapshotDigest.ShouldBe(built.Digest);
        File.Exists("/usr/bin/bwrap").ShouldBeTrue("the host has bubblewrap, so the session's not seeing it means it saw the snapshot's /usr");
    }

    [Fact]
    public async Task Changing_the_last_step_rebuilds_only_that_step()
    {
        var server = await servers.GetAsync(TestStore.Postgres);
        using var client = await server.NewWorkspaceClientAsync();
        const string Steps = SnapshotApi.Minbase + "\nrun:\n  - echo one > /opt/one\n";

        var first = await client.BuildAsync("steps", Steps + "  - echo two > /opt/two\n");
        var second = await client.BuildAsync("steps", Steps + "  - echo three > /opt/three\n");

        first.Status.ShouldBe("ready", first.Log);
        second.Status.ShouldBe("ready", second.Log);
        second.Log!.ShouldContain("==> step 1/3 base debootstrap:bookworm/minbase: cached");
        second.Log!.ShouldContain("==> step 2/3 run echo one > /opt/one: cached");
        second.Log!.ShouldContain("==> step 3/3 run echo three > /opt/three: running");
        second.Digest.ShouldNotBe(first.Digest);
        var again = await client.BuildAsync("steps", Steps + "  - echo three > /opt/three\n");
        again.Digest.ShouldBe(second.Digest, "the same recipe gives the same image, byte for byte");
        again.Log!.ShouldContain("==> step 3/3 run echo three > /opt/three: cached");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_failed_build_stays_failed_with_its_log_and_error(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();

        var failed = await client.BuildAsync("doomed", SnapshotApi.Minbase + "\nrun:\n  - echo about to fail; exit 3\n");

        failed.Status.ShouldBe("failed");
        failed.Digest.ShouldBeNull();
        failed.Error!.Code.ShouldBe("step_failed");
        failed.Error.Message.ShouldContain("exited with 3");
        failed.Log!.ShouldContain("about to fail");
        using var session = await client.PostRawAsync("/v1/sessions", """{"snapshot": "doomed", "script": "true"}""");
        (await session.ReadProblemAsync()).Code.ShouldBe("snapshot_not_found", "a failed build is no snapshot to boot");
        var listed = await client.GetFromJsonAsync("/v1/snapshots", KennelJson.Default.SnapshotViewList);
        listed!.Items.Single(s => s.Id == failed.Id).Error!.Code.ShouldBe("step_failed");
    }

    [Fact]
    public async Task A_worker_refuses_an_image_that_does_not_match_its_digest_and_fails_the_session_with_the_reason()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = await server.NewWorkspaceClientAsync();
        var built = await client.BuildAsync("corrupt", SnapshotApi.Minbase + $"\nrun: [echo {Guid.NewGuid():N} > /opt/unique]\n");
        built.Status.ShouldBe("ready", built.Log);
        var image = server.Settings.Snapshots.ImagePath(built.Digest!["sha256:".Length..]);
        await using (var file = new FileStream(image, FileMode.Open, FileAccess.Write))
        {
            file.Seek(-1, SeekOrigin.End);
            file.WriteByte(0x5a);
        }

        var session = await client.CreateSessionAsync(new CreateSessionRequest { Snapshot = "corrupt", Script = "true" });
        var done = await client.WaitAsync(session.Id);

        done.Status.ShouldBe(SessionStatus.Failed);
        done.Error!.Code.ShouldBe("snapshot_unavailable");
        done.Error.Message.ShouldContain("does not match its SHA-256");
    }

    [Fact]
    public async Task A_recipe_naming_an_oci_base_is_refused_until_a_source_serves_it()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var client = await server.NewWorkspaceClientAsync();

        var failed = await client.BuildAsync("oci", "base: {oci: python:3.12-slim}\n");

        failed.Status.ShouldBe("failed");
        failed.Error!.Code.ShouldBe("base_unsupported");
    }
}
