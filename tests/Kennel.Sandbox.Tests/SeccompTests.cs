using System.Runtime.InteropServices;

namespace Kennel.Sandbox.Tests;

/// <summary>
/// The seccomp filter: each denied call fails inside a session with the filter's error whatever its arguments, and
/// ordinary workloads (Python, a C compiler, git, threads and processes) still work.
/// </summary>
public sealed class SeccompTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>
{
    // x86_64 numbers. Each call's arguments would make it fail some other way (EFAULT, EBADF, EINVAL) or do nothing
    // harmful if it were allowed, so an EPERM here is the filter's, not the kernel's usual answer.
    private const string Battery = """
        import ctypes, errno, os
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        pid = os.getpid()
        calls = {
            "unshare": (272, 0x10000000), "setns": (308, -1, 0),
            "mount": (165, 0, 0, 0, 0, 0), "umount2": (166, 0, 0), "pivot_root": (155, 0, 0),
            "fsopen": (430, 0, 0), "open_tree": (428, -1, 0, 0), "move_mount": (429, -1, 0, -1, 0, 0), "mount_setattr": (442, -1, 0, 0, 0, 0),
            "add_key": (248, 0, 0, 0, 0, 0), "keyctl": (250, 0, -3, 0), "request_key": (249, 0, 0, 0, 0),
            "bpf": (321, -1, 0, 0), "perf_event_open": (298, 0, 0, -1, -1, 0), "userfaultfd": (323, 1),
            "io_uring_setup": (425, 0, 0), "io_uring_enter": (426, -1, 0, 0, 0, 0, 0), "io_uring_register": (427, -1, 0, 0, 0),
            "init_module": (175, 0, 0, 0), "finit_module": (313, -1, 0, 0), "delete_module": (176, 0, 0),
            "kexec_load": (246, 0, 0, 0, 0), "kexec_file_load": (320, -1, -1, 0, 0, 0),
            "ptrace": (101, 0, 0, 0, 0), "process_vm_readv": (310, pid, 0, 0, 0, 0, 0), "process_vm_writev": (311, pid, 0, 0, 0, 0, 0),
            "kcmp": (312, pid, pid, 0, 0, 0),
            "acct": (163, 0), "reboot": (169, 0, 0, 0, 0), "swapon": (167, 0, 0), "swapoff": (168, 0),
            "settimeofday": (164, 0, 0), "clock_settime": (227, 0, 0), "clock_adjtime": (305, 0, 0), "syslog": (103, 10, 0, 0),
            "quotactl": (179, 0, 0, 0, 0), "open_by_handle_at": (304, -1, 0, 0), "name_to_handle_at": (303, -1, 0, 0, 0, 0),
            "lookup_dcookie": (212, 0, 0, 0), "fanotify_init": (300, 0, 0), "iopl": (172, 0), "ioperm": (173, 0, 0, 0),
            "mbind": (237, 0, 0, 0, 0, 0, 0), "set_mempolicy": (238, 0, 0, 0), "move_pages": (279, pid, 0, 0, 0, 0, 0),
            "migrate_pages": (256, pid, 0, 0, 0),
        }
        # clone with each namespace flag, and CLONE_THREAD without CLONE_SIGHAND: EINVAL if the filter let it through.
        for name, flag in {"NEWNS": 0x20000, "NEWCGROUP": 0x2000000, "NEWUTS": 0x4000000, "NEWIPC": 0x8000000,
                           "NEWUSER": 0x10000000, "NEWPID": 0x20000000, "NEWNET": 0x40000000, "NEWTIME": 0x80}.items():
            calls["clone CLONE_" + name] = (56, flag | 0x10000, 0, 0, 0, 0)
        calls["clone3"] = (435, 0, 0)
        for name, args in calls.items():
            result = libc.syscall(*[ctypes.c_long(a) for a in args])
            print(name, result, errno.errorcode.get(ctypes.get_errno(), "0") if result < 0 else "-")
        print("calls", len(calls), "-")
        """;

    private readonly SandboxHost _host = sandbox.Host;

    [Fact]
    public async Task The_filter_is_in_force_for_the_workload()
    {
        var run = await _host.RunAsync("grep -E '^(Seccomp|Seccomp_filters|NoNewPrivs):' /proc/self/status");

        run.Stdout.ShouldContain("Seccomp:\t2");
        run.Stdout.ShouldContain("NoNewPrivs:\t1");
    }

    [Fact]
    public async Task Every_denied_call_fails_with_the_filters_error()
    {
        if (RuntimeInformation.OSArchitecture != Architecture.X64)
        {
            return; // the battery holds x86_64 syscall numbers
        }

        var run = await _host.RunAsync($"python3 - <<'PY'\n{Battery}\nPY");

        run.ExitCode.ShouldBe(0, run.Stderr);
        var results = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .ToDictionary(fields => string.Join(' ', fields[..^2]), fields => fields[^1]);
        results.Remove("calls").ShouldBeTrue(run.Stdout);
        results.Count.ShouldBe(int.Parse(run.Stdout.Split('\n').Single(l => l.StartsWith("calls ", StringComparison.Ordinal)).Split(' ')[1]));
        results.Keys.ShouldContain("clone CLONE_NEWUSER");
        foreach (var (call, error) in results)
        {
            error.ShouldBe(call == "clone3" ? "ENOSYS" : "EPERM", $"{call}: {run.Stdout}");
        }
    }

    [Fact]
    public async Task Nested_user_namespaces_cannot_be_made_so_no_session_can_use_up_the_hosts_quota()
    {
        // unshare(1), and unshare(2) called over and over as an attacker would: refused every time, so nothing is counted
        // against the host uid's user namespace quota.
        var run = await _host.RunAsync("""
            unshare -Ur true; echo "unshare $?"
            python3 -c '
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            print("refused", sum(1 for _ in range(200) if libc.unshare(0x10000000) != 0 and ctypes.get_errno() == 1))
            '
            """);

        run.Stdout.ShouldContain("unshare 1");
        run.Stdout.ShouldContain("refused 200");
        run.Stderr.ShouldContain("unshare failed: Operation not permitted");
    }

    [Fact]
    public async Task Ordinary_workloads_still_work()
    {
        var run = await _host.RunAsync("""
            set -e
            python3 -c '
            import multiprocessing, threading, subprocess
            def square(x): return x * x
            with multiprocessing.Pool(2) as pool: print("pool", sum(pool.map(square, range(10))))
            lock = multiprocessing.Lock(); queue = multiprocessing.Queue(); queue.put(7); print("queue", queue.get())
            t = threading.Thread(target=print, args=("thread",)); t.start(); t.join()
            print(subprocess.run(["echo", "subprocess"], capture_output=True, text=True).stdout.strip())
            '
            cat > hello.c <<'C'
            #include <pthread.h>
            #include <stdio.h>
            static void *run(void *arg) { puts(arg); return 0; }
            int main(void) { pthread_t t; pthread_create(&t, 0, run, "compiled"); return pthread_join(t, 0); }
            C
            gcc -pthread -o hello hello.c && ./hello
            export GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@example.com GIT_COMMITTER_NAME=a GIT_COMMITTER_EMAIL=a@example.com
            git init -q repo && cd repo && echo x > file && git add file && git commit -qm first && git log --format=%s
            """, memoryMb: 512, vcpus: 2);

        run.ExitCode.ShouldBe(0, run.Stderr);
        run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["pool 285", "queue 7", "thread", "subprocess", "compiled", "first"]);
    }
}
