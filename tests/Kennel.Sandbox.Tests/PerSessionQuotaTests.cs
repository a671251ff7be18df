namespace Kennel.Sandbox.Tests;

/// <summary>
/// Kernel limits counted per host uid are each session's own: one session that uses up its inotify instances leaves
/// the next with all of its own, and one cannot see another's keys (a session may not make keys at all).
/// </summary>
public sealed class PerSessionQuotaTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>
{
    private readonly SandboxHost _host = sandbox.Host;

    [Fact]
    public async Task A_session_holding_every_inotify_instance_it_can_leaves_another_session_its_own()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return; // a non-root worker runs every sandbox as its own uid (see the README)
        }

        await using var attacker = await _host.Runtime.StartAsync(SandboxHost.Spec("""
            exec python3 -u -c '
            import ctypes, time
            libc = ctypes.CDLL(None, use_errno=True)
            held = []
            while True:
                fd = libc.inotify_init1(0)
                if fd < 0:
                    break
                held.append(fd)
            print("held", len(held), "errno", ctypes.get_errno())
            time.sleep(60)
            '
            """), CancellationToken.None);
        using var attackerOut = new StreamReader(attacker.StandardOutput);
        var held = await attackerOut.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        held.ShouldNotBeNull();
        held.ShouldStartWith("held ");
        int.Parse(held.Split(' ')[1]).ShouldBeGreaterThan(0, held);

        var victim = await _host.RunAsync("""python3 -c 'import ctypes; print("inotify", ctypes.CDLL(None).inotify_init1(0) >= 0)'""");

        victim.Stdout.ShouldBe("inotify True\n", $"{held}; {victim.Stderr}");
        await attacker.KillAsync();
    }

    [Fact]
    public async Task A_session_cannot_add_keys_and_another_sees_none_of_its_key_names()
    {
        var marker = $"kennel-probe-{Guid.NewGuid():N}";
        var attacker = await _host.RunAsync($$"""
            python3 -c '
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
            added = 0
            for i in range(300):
                # add_key("user", name, "x", 1, KEY_SPEC_USER_KEYRING)
                if libc.syscall(248, b"user", b"{{marker}}-%d" % i, b"x", 1, -4) >= 0:
                    added += 1
            print("added", added, "errno", ctypes.get_errno())
            '
            """);
        var victim = await _host.RunAsync("cat /proc/keys; echo end");

        attacker.Stdout.ShouldBe("added 0 errno 1\n", attacker.Stderr);
        victim.Stdout.ShouldNotContain(marker);
        victim.Stdout.ShouldEndWith("end\n");
    }
}
