using System.Runtime.InteropServices;

namespace Kennel.Sandbox.Seccomp;

/// <summary>
/// The system calls a workload may not make, in the spirit of Docker's default profile: everything else is allowed,
/// and these fail with <c>EPERM</c> (and <c>clone3</c> with <c>ENOSYS</c>, so libc falls back to <c>clone</c>, whose
/// flags the filter can see). Compiled once per worker by libseccomp into the program bwrap installs before the
/// workload's first instruction; it holds for every process of the session and cannot be removed.
/// </summary>
/// <remarks>
/// The sandbox's own namespaces already keep most of these from reaching the host, but each is kernel attack surface a
/// workload has no use for, and some reach state that namespaces do not cover: user namespaces count against a
/// per-uid quota of the host, keys live in the host's keyrings, and eBPF, perf and io_uring have a history of
/// privilege escalations.
/// </remarks>
internal static class SeccompPolicy
{
    private const int PermissionDenied = 1; // EPERM
    private const int NotImplemented = 38; // ENOSYS

    /// <summary>Every denied call, by group, for the documentation and the tests.</summary>
    public static IReadOnlyDictionary<string, string[]> Denied { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["namespaces"] = ["unshare", "setns"],
        ["mounts"] = ["mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr"],
        ["keyrings"] = ["add_key", "keyctl", "request_key"],
        ["kernel interfaces"] = ["bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "fanotify_init", "lookup_dcookie"],
        ["modules and kexec"] = ["init_module", "finit_module", "delete_module", "create_module", "query_module", "get_kernel_syms", "kexec_load", "kexec_file_load"],
        ["tracing other processes"] = ["ptrace", "process_vm_readv", "process_vm_writev", "kcmp"],
        ["host-wide state"] =
        [
            "acct", "reboot", "swapon", "swapoff", "settimeofday", "clock_settime", "clock_adjtime", "stime", "syslog",
            "quotactl", "quotactl_fd", "nfsservctl", "sysfs", "_sysctl", "uselib", "ustat", "vm86", "vm86old", "ioperm", "iopl",
        ],
        ["file handles"] = ["open_by_handle_at", "name_to_handle_at"],
        ["NUMA policy"] = ["mbind", "set_mempolicy", "move_pages", "migrate_pages"],
    };

    /// <summary><c>clone</c> with any of these flags (a new namespace) is denied; plain thread and process creation is not.</summary>
    public static IReadOnlyDictionary<string, ulong> DeniedCloneFlags { get; } = new Dictionary<string, ulong>(StringComparer.Ordinal)
    {
        ["CLONE_NEWTIME"] = 0x00000080,
        ["CLONE_NEWNS"] = 0x00020000,
        ["CLONE_NEWCGROUP"] = 0x02000000,
        ["CLONE_NEWUTS"] = 0x04000000,
        ["CLONE_NEWIPC"] = 0x08000000,
        ["CLONE_NEWUSER"] = 0x10000000,
        ["CLONE_NEWPID"] = 0x20000000,
        ["CLONE_NEWNET"] = 0x40000000,
    };

    /// <summary>The policy as a classic BPF program for bwrap's <c>--seccomp</c>. Throws <see cref="SandboxException"/> when libseccomp is missing or refuses it.</summary>
    public static byte[] Compile()
    {
        nint context;
        try
        {
            context = LibSeccomp.Init(LibSeccomp.ActionAllow);
        }
        catch (DllNotFoundException)
        {
            throw Unavailable($"{LibSeccomp.Library} is not installed; install it with: apt-get install libseccomp2");
        }

        if (context == 0)
        {
            throw Unavailable("seccomp_init failed");
        }

        try
        {
            AddCompatibleArchitectures(context);
            var deny = LibSeccomp.ActionErrno(PermissionDenied);
            foreach (var name in Denied.Values.SelectMany(names => names))
            {
                AddRule(context, deny, name);
            }

            // Its flags sit in memory the filter cannot read, so it looks unimplemented and libc uses clone instead.
            AddRule(context, LibSeccomp.ActionErrno(NotImplemented), "clone3");
            foreach (var flag in DeniedCloneFlags.Values)
            {
                AddRule(context, deny, "clone", new LibSeccomp.ArgumentCondition
                {
                    Argument = 0, // the flags, on every architecture Kennel runs on (s390 would differ)
                    Operator = LibSeccomp.CompareMaskedEqual,
                    DatumA = flag,
                    DatumB = flag,
                });
            }

            var memory = LinuxDescriptors.MemoryFile("kennel-seccomp", []);
            try
            {
                Check(LibSeccomp.ExportBpf(context, memory), "seccomp_export_bpf");
                return LinuxDescriptors.ReadAll(memory);
            }
            finally
            {
                LinuxDescriptors.CloseQuietly(memory);
            }
        }
        finally
        {
            LibSeccomp.Release(context);
        }
    }

    // 32-bit and x32 binaries run on an x86_64 host (and 32-bit arm on aarch64), so the same calls are denied for
    // them too. libseccomp kills a process that calls in through an architecture the filter does not list.
    private static void AddCompatibleArchitectures(nint context)
    {
        uint[] compatible = LibSeccomp.NativeArch() switch
        {
            LibSeccomp.ArchX8664 => [LibSeccomp.ArchX86, LibSeccomp.ArchX32],
            LibSeccomp.ArchAarch64 => [LibSeccomp.ArchArm],
            _ => [],
        };
        foreach (var arch in compatible)
        {
            // -EEXIST: already there. Any other failure leaves that architecture to the kill action, which is safe.
            _ = LibSeccomp.AddArch(context, arch);
        }
    }

    private static unsafe void AddRule(nint context, uint action, string name, LibSeccomp.ArgumentCondition? condition = null)
    {
        var syscall = LibSeccomp.ResolveName(name);
        if (syscall == LibSeccomp.UnknownSyscall)
        {
            return; // not a call on any architecture of this filter
        }

        var result = 0;
        if (condition is { } only)
        {
            result = LibSeccomp.AddRule(context, action, syscall, 1, &only);
        }
        else
        {
            result = LibSeccomp.AddRule(context, action, syscall, 0, null);
        }

        Check(result, $"seccomp_rule_add({name})");
    }

    private static void Check(int result, string call)
    {
        if (result < 0)
        {
            throw Unavailable($"{call} failed: {Marshal.GetPInvokeErrorMessage(-result)}");
        }
    }

    private static SandboxException Unavailable(string problem) => new("sandbox_unavailable", $"Cannot build the sandbox's seccomp filter: {problem}");
}
