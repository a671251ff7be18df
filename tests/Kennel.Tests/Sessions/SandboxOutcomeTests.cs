using Kennel.Contracts.Sessions;
using Kennel.Testing;
using Microsoft.Extensions.Logging;

namespace Kennel.Tests.Sessions;

/// <summary>How a session's status, error and exit code tell a sandbox that never started and a memory kill from a workload's own verdict.</summary>
public sealed class SandboxOutcomeTests(SharedServers servers) : IClassFixture<SharedServers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_sandbox_that_cannot_be_built_fails_the_session_as_sandbox_start_failed_with_bwraps_reason_and_a_warning(string store)
    {
        var shared = Directory.CreateTempSubdirectory("kennel-shared-").FullName;
        File.SetUnixFileMode(shared, (UnixFileMode)0b111_101_101);
        var logs = new LogCapture();
        try
        {
            await using var server = await TestServer.StartAsync(store, s => s with { SandboxSharedDirectory = shared }, logging: logs.AddTo);
            using var client = server.Client();
            // The snapshot's published /etc goes away after the worker started, as a clean-up of /run would take it.
            foreach (var etc in Directory.GetDirectories(shared, "etc-*"))
            {
                Directory.Delete(etc, recursive: true);
            }

            var session = await client.RunScriptAsync("echo never");
            var done = await client.WaitAsync(session.Id);

            done.Status.ShouldBe(SessionStatus.Failed);
            done.Error.ShouldNotBeNull();
            done.Error!.Code.ShouldBe("sandbox_start_failed");
            done.Error.Message.ShouldContain("bwrap: ");
            done.Error.Message.ShouldContain("etc-");
            done.ExitCode.ShouldBeNull();
            done.Stdout.ShouldBeEmpty();
            logs.Lines.ShouldContain(e => e.Level == LogLevel.Warning && e.Message.Contains(session.Id, StringComparison.Ordinal)
                && e.Message.Contains("could not be created", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_process_killed_for_memory_fails_the_session_and_its_exit_code_never_says_success(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        // The shell's child is killed; the shell itself goes on and exits 0.
        var session = await client.CreateSessionAsync(new CreateSessionRequest
        {
            Script = "dd if=/dev/zero of=/dev/null bs=300M count=1; echo survived; exit 0",
            Resources = new SessionResources { MemoryMb = 64 },
        });
        var done = await client.WaitAsync(session.Id);

        done.Stdout.ShouldBe("survived\n");
        done.Status.ShouldBe(SessionStatus.Failed);
        done.Error!.Code.ShouldBe("out_of_memory");
        done.ExitCode.ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_main_process_killed_for_memory_keeps_its_signal_exit_code(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        var session = await client.CreateSessionAsync(new CreateSessionRequest
        {
            Command = ["dd", "if=/dev/zero", "of=/dev/null", "bs=300M", "count=1"],
            Resources = new SessionResources { MemoryMb = 64 },
        });
        var done = await client.WaitAsync(session.Id);

        done.Status.ShouldBe(SessionStatus.Failed);
        done.Error!.Code.ShouldBe("out_of_memory");
        done.ExitCode.ShouldBe(137);
    }
}
