using System.Text.Json;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Sessions;

/// <summary>A session from create to exit, as a user sees it: status, exit code, both output streams, timings and accounting.</summary>
public sealed class SessionLifecycleTests(SharedServers servers) : IClassFixture<SharedServers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Echo_hello_runs_to_success_with_its_output_and_accounting(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        var created = await client.CreateSessionAsync(new CreateSessionRequest { Command = ["echo", "hello"] });
        created.Status.ShouldBe(SessionStatus.Pending);
        created.Snapshot.ShouldBe("test-minimal");

        var done = await client.WaitAsync(created.Id);

        done.Status.ShouldBe(SessionStatus.Succeeded);
        done.ExitCode.ShouldBe(0);
        done.Stdout.ShouldBe("hello\n");
        done.Stderr.ShouldBe("");
        done.Error.ShouldBeNull();
        done.StartedAt.ShouldNotBeNull();
        done.EndedAt.ShouldNotBeNull();
        done.EndedAt!.Value.ShouldBeGreaterThanOrEqualTo(done.StartedAt!.Value);
        done.WorkerId.ShouldNotBeNullOrEmpty();
        done.VcpuSeconds.ShouldBeGreaterThan(0);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Created_session_echoes_the_request_with_its_defaults(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        var created = await client.CreateSessionAsync(new CreateSessionRequest
        {
            Script = "true",
            Metadata = new Dictionary<string, string> { ["ticket"] = "KEN-1" },
        });

        created.Id.ShouldStartWith("ses_");
        created.Workspace.ShouldBe("default");
        created.Status.ShouldBe(SessionStatus.Pending);
        created.Script.ShouldBe("true");
        created.Command.ShouldBeNull();
        created.TimeoutMs.ShouldBe(600_000);
        created.Resources.Vcpus.ShouldBe(1);
        created.Resources.MemoryMb.ShouldBe(512);
        created.Network.Mode.ShouldBe("none");
        created.Metadata.ShouldBe(new Dictionary<string, string> { ["ticket"] = "KEN-1" });
        created.ExitCode.ShouldBeNull();
        created.StartedAt.ShouldBeNull();
        created.EndedAt.ShouldBeNull();
        (DateTimeOffset.UtcNow - created.CreatedAt).Duration().ShouldBeLessThan(TimeSpan.FromMinutes(1));
        (await client.WaitAsync(created.Id)).Status.ShouldBe(SessionStatus.Succeeded);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Session_json_always_carries_the_documented_fields(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        using var created = await client.PostRawAsync("/v1/sessions", """{"command": ["echo", "fields"]}""");
        ((int)created.StatusCode).ShouldBe(202);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        created.Headers.Location!.ToString().ShouldBe($"/v1/sessions/{id}");
        await client.WaitAsync(id);
        var done = await client.GetStringAsync($"/v1/sessions/{id}");

        using var json = JsonDocument.Parse(done);
        foreach (var field in new[] { "id", "status", "exitCode", "stdout", "stderr", "createdAt", "startedAt", "endedAt", "error", "workerId", "vcpuSeconds", "cpuSeconds", "truncated" })
        {
            json.RootElement.TryGetProperty(field, out _).ShouldBeTrue($"{field} is missing from {done}");
        }
        json.RootElement.GetProperty("status").GetString().ShouldBe("succeeded");
        json.RootElement.GetProperty("exitCode").GetInt32().ShouldBe(0);
        json.RootElement.GetProperty("stdout").GetString().ShouldBe("fields\n");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Nonzero_exit_fails_with_its_code_and_keeps_stdout_and_stderr_apart(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        var session = await client.RunScriptAsync("echo to-out; echo to-err >&2; exit 3");
        var done = await client.WaitAsync(session.Id);

        done.Status.ShouldBe(SessionStatus.Failed);
        done.ExitCode.ShouldBe(3);
        done.Error.ShouldNotBeNull();
        done.Error!.Code.ShouldBe("nonzero_exit");
        done.Error.Message.ShouldNotBeNullOrWhiteSpace();
        done.Stdout.ShouldBe("to-out\n");
        done.Stderr.ShouldBe("to-err\n");
        done.Truncated.ShouldBeFalse();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Env_reaches_the_workload(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        var session = await client.CreateSessionAsync(new CreateSessionRequest
        {
            Script = "printf '%s|%s' \"$GREETING\" \"$EMPTY_OK\"",
            Env = new Dictionary<string, string> { ["GREETING"] = "hello world 'quoted' $NOT_EXPANDED", ["EMPTY_OK"] = "" },
        });
        var done = await client.WaitAsync(session.Id);

        done.Status.ShouldBe(SessionStatus.Succeeded, done.Stderr);
        done.Stdout.ShouldBe("hello world 'quoted' $NOT_EXPANDED|");
        done.Env["GREETING"].ShouldBe("hello world 'quoted' $NOT_EXPANDED");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Command_argv_is_passed_as_is_with_spaces_and_quotes(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();
        string[] argv = ["printf", "[%s]\\n", "two words", "it's \"quoted\"", "$HOME", "*", ""];

        var session = await client.CreateSessionAsync(new CreateSessionRequest { Command = argv });
        var done = await client.WaitAsync(session.Id);

        done.Status.ShouldBe(SessionStatus.Succeeded, done.Stderr);
        done.Stdout.ShouldBe("[two words]\n[it's \"quoted\"]\n[$HOME]\n[*]\n[]\n");
        done.Command.ShouldBe(argv);
        done.Script.ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Unicode_output_survives_intact(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        var session = await client.CreateSessionAsync(new CreateSessionRequest { Command = ["printf", "%s", "héllo wörld ✓ 🐕"] });
        var done = await client.WaitAsync(session.Id);

        done.Status.ShouldBe(SessionStatus.Succeeded, done.Stderr);
        done.Stdout.ShouldBe("héllo wörld ✓ 🐕");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Binary_output_with_nul_and_invalid_utf8_bytes_is_kept_as_text(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        var session = await client.RunScriptAsync("printf 'a\\000b\\377c\\n'; printf 'e\\000rr' >&2");
        var done = await client.WaitAsync(session.Id, TimeSpan.FromSeconds(30));

        // Invalid UTF-8 decodes to U+FFFD; NUL, which PostgreSQL text cannot hold, becomes SUB (U+001A) on both stores.
        done.Status.ShouldBe(SessionStatus.Succeeded);
        done.Stdout.ShouldBe("a\u001ab\uFFFDc\n");
        done.Stderr.ShouldBe("e\u001arr");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_background_process_left_behind_does_not_keep_the_session_alive(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        var session = await client.RunScriptAsync("sleep 60 & echo bye");
        var done = await client.WaitAsync(session.Id, TimeSpan.FromSeconds(20));

        done.Status.ShouldBe(SessionStatus.Succeeded);
        done.Stdout.ShouldBe("bye\n");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_missing_program_fails_rather_than_hanging(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        var session = await client.CreateSessionAsync(new CreateSessionRequest { Command = ["/usr/bin/no-such-program"] });
        var done = await client.WaitAsync(session.Id);

        done.Status.ShouldBe(SessionStatus.Failed);
        done.Error.ShouldNotBeNull();
        done.EndedAt.ShouldNotBeNull();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Vcpu_seconds_are_vcpus_times_wall_time_and_cpu_seconds_are_measured(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        // A fixed amount of work (about a CPU-second here), so the CPU time does not depend on how busy the machine is.
        var session = await client.CreateSessionAsync(new CreateSessionRequest
        {
            Script = "i=0; while [ $i -lt 800000 ]; do i=$((i+1)); done; echo $i",
            Resources = new SessionResources { Vcpus = 2 },
        });
        var done = await client.WaitAsync(session.Id);

        done.Status.ShouldBe(SessionStatus.Succeeded, done.Stderr);
        done.Stdout.ShouldBe("800000\n");
        done.Resources.Vcpus.ShouldBe(2);
        done.CpuSeconds.ShouldBeGreaterThan(0.3);
        var wall = (done.EndedAt!.Value - done.StartedAt!.Value).TotalSeconds;
        done.VcpuSeconds.ShouldBe(2 * wall, tolerance: 2 * 0.5);
        done.VcpuSeconds.ShouldBeGreaterThan(0.3);
    }
}
