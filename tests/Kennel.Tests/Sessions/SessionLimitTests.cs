using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Sessions;

/// <summary>The limits a session runs under: output cap, timeout, memory, and capacity (a session that fits nowhere waits).</summary>
public sealed class SessionLimitTests(SharedServers servers) : IClassFixture<SharedServers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Output_over_the_cap_is_cut_to_the_cap_and_marked_truncated(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => s with { ControlPlane = s.ControlPlane with { OutputLimitBytes = 1000 } });
        using var client = server.Client();

        var session = await client.RunScriptAsync("i=0; while [ $i -lt 500 ]; do echo 0123456789; i=$((i+1)); done; echo small >&2");
        var done = await client.WaitAsync(session.Id);

        done.Status.ShouldBe(SessionStatus.Succeeded);
        done.Truncated.ShouldBeTrue();
        System.Text.Encoding.UTF8.GetByteCount(done.Stdout).ShouldBe(1000);
        done.Stdout.ShouldStartWith("0123456789\n0123456789\n");
        done.Stderr.ShouldBe("small\n");

        // A cap that falls inside a multibyte character cuts before it: the output stays valid text, never over the cap.
        var euros = await client.RunScriptAsync("i=0; while [ $i -lt 400 ]; do printf '€'; i=$((i+1)); done");
        var cut = await client.WaitAsync(euros.Id);
        cut.Truncated.ShouldBeTrue();
        cut.Stdout.ShouldBe(new string('€', 333));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_flood_of_output_is_capped_at_the_default_mebibyte_without_stalling_the_workload(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        var session = await client.RunScriptAsync("head -c 5000000 /dev/zero | tr '\\0' x; echo finished >&2");
        var done = await client.WaitAsync(session.Id);

        done.Status.ShouldBe(SessionStatus.Succeeded, done.Error?.Message);
        done.Truncated.ShouldBeTrue();
        done.Stdout.Length.ShouldBe(1024 * 1024);
        done.Stderr.ShouldBe("finished\n");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Output_under_the_cap_is_not_truncated(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        var session = await client.RunScriptAsync("head -c 100000 /dev/zero | tr '\\0' x");
        var done = await client.WaitAsync(session.Id);

        done.Status.ShouldBe(SessionStatus.Succeeded, done.Stderr);
        done.Truncated.ShouldBeFalse();
        done.Stdout.ShouldBe(new string('x', 100_000));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Timeout_kills_the_workload_and_reports_timed_out(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        var session = await client.CreateSessionAsync(new CreateSessionRequest { Script = "echo started; sleep 30; echo never", TimeoutMs = 1000 });
        var done = await client.WaitAsync(session.Id, TimeSpan.FromSeconds(20));

        done.Status.ShouldBe(SessionStatus.TimedOut);
        done.Error.ShouldNotBeNull();
        done.Error!.Code.ShouldBe("timeout");
        done.Stdout.ShouldBe("started\n");
        (done.EndedAt!.Value - done.StartedAt!.Value).ShouldBeLessThan(TimeSpan.FromSeconds(10));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Exceeding_the_memory_cap_fails_with_out_of_memory(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        // dd's buffer is one 300 MB block that it fills from /dev/zero: real, resident memory far above 64 MiB.
        var session = await client.CreateSessionAsync(new CreateSessionRequest
        {
            Script = "dd if=/dev/zero of=/dev/null bs=300M count=1",
            Resources = new SessionResources { MemoryMb = 64 },
        });
        var done = await client.WaitAsync(session.Id);

        done.Status.ShouldBe(SessionStatus.Failed, done.Stderr);
        done.Error.ShouldNotBeNull();
        done.Error!.Code.ShouldBe("out_of_memory");
        done.Resources.MemoryMb.ShouldBe(64);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Staying_under_the_memory_cap_succeeds(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        var session = await client.CreateSessionAsync(new CreateSessionRequest
        {
            Script = "dd if=/dev/zero of=/dev/null bs=16M count=1 2>/dev/null && echo ok",
            Resources = new SessionResources { MemoryMb = 64 },
        });
        var done = await client.WaitAsync(session.Id);

        done.Status.ShouldBe(SessionStatus.Succeeded, done.Stderr);
        done.Stdout.ShouldBe("ok\n");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_session_larger_than_any_worker_waits_pending_instead_of_failing(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        // The test server's worker has 8192 MiB; this asks for twice that.
        var big = await client.CreateSessionAsync(new CreateSessionRequest { Script = "echo big", Resources = new SessionResources { MemoryMb = 16384 } });
        var small = await client.CreateSessionAsync(new CreateSessionRequest { Command = ["echo", "small"] });

        (await client.WaitAsync(small.Id)).Status.ShouldBe(SessionStatus.Succeeded);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var waiting = await client.GetSessionAsync(big.Id);

        waiting.Status.ShouldBe(SessionStatus.Pending);
        waiting.Error.ShouldBeNull();
        waiting.WorkerId.ShouldBeNull();
        (await client.CancelAsync(big.Id)).Status.ShouldBe(SessionStatus.Cancelled);
    }
}
