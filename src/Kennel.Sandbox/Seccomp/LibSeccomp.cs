using System.Runtime.InteropServices;

namespace Kennel.Sandbox.Seccomp;

/// <summary>
/// The few entry points of libseccomp (Debian's <c>libseccomp2</c>) that compile <see cref="SeccompPolicy"/> into the
/// classic BPF program bwrap loads with <c>--seccomp</c>. libseccomp knows every architecture's syscall numbers and
/// emits the architecture checks a hand-written filter gets wrong (a 32-bit <c>int 0x80</c> or an x32 call must not
/// slip past a filter written for x86_64 numbers).
/// </summary>
internal static partial class LibSeccomp
{
    public const string Library = "libseccomp.so.2";

    public const uint ActionAllow = 0x7fff0000;

    /// <summary>Resolves a syscall name that this architecture does not have.</summary>
    public const int UnknownSyscall = -1;

    // enum scmp_compare: SCMP_CMP_MASKED_EQ.
    public const int CompareMaskedEqual = 7;

    // Audit architecture tokens (linux/audit.h): what libseccomp calls SCMP_ARCH_*.
    public const uint ArchX86 = 0x40000003;
    public const uint ArchX8664 = 0xc000003e;
    public const uint ArchX32 = 0x4000003e;
    public const uint ArchArm = 0x40000028;
    public const uint ArchAarch64 = 0xc00000b7;

    /// <summary>SCMP_ACT_ERRNO(errno): the call fails with that errno and does nothing.</summary>
    public static uint ActionErrno(int errno) => 0x00050000u | ((uint)errno & 0xffffu);

    [LibraryImport(Library, EntryPoint = "seccomp_init")]
    public static partial nint Init(uint defaultAction);

    [LibraryImport(Library, EntryPoint = "seccomp_release")]
    public static partial void Release(nint context);

    [LibraryImport(Library, EntryPoint = "seccomp_arch_native")]
    public static partial uint NativeArch();

    [LibraryImport(Library, EntryPoint = "seccomp_arch_add")]
    public static partial int AddArch(nint context, uint arch);

    [LibraryImport(Library, EntryPoint = "seccomp_syscall_resolve_name", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ResolveName(string name);

    [LibraryImport(Library, EntryPoint = "seccomp_rule_add_array")]
    public static unsafe partial int AddRule(nint context, uint action, int syscall, uint conditionCount, ArgumentCondition* conditions);

    [LibraryImport(Library, EntryPoint = "seccomp_export_bpf")]
    public static partial int ExportBpf(nint context, int fd);

    /// <summary>struct scmp_arg_cmp.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ArgumentCondition
    {
        public uint Argument;
        public int Operator;
        public ulong DatumA;
        public ulong DatumB;
    }
}
