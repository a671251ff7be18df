using System.Diagnostics;
using System.Globalization;
using Kennel.Sandbox;
using Kennel.Sandbox.Seccomp;

namespace Kennel.Bench;

/// <summary>
/// The baseline: plain bwrap with the same namespaces and test-minimal-like mounts Kennel uses, started and reaped
/// directly, with no control plane and no cgroups. <see cref="Hardening"/> adds what the runtime now adds to every
/// sandbox, one step at a time, so each step's cost on the start path is measured alone.
/// </summary>
internal static class RawBwrap
{
    private static readonly string[] Namespaces = ["--unshare-all", "--die-with-parent", "--new-session"];

    private static readonly string[] Mounts =
    [
        "--clearenv", "--setenv", "PATH", "/usr/bin:/bin",
        "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/work", "--chdir", "/work",
    ];

    private static readonly Lazy<byte[]> SeccompProgram = new(SeccompPolicy.Compile);

    private static readonly Lazy<string> Bwrap = new(() => ExecutableSearch.Find("bwrap") ?? throw new InvalidOperationException("bwrap is not installed"));

    /// <summary>What is added to bwrap's command line.</summary>
    [Flags]
    public enum Hardening
    {
        None = 0,

        /// <summary>A user namespace that cannot make more (<c>--unshare-user --disable-userns</c>).</summary>
        NoNestedUserNamespaces = 1,

        /// <summary>The seccomp program (<c>--seccomp</c>) and the status pipe that tells a failed start (<c>--json-status-fd</c>).</summary>
        SeccompAndStatus = 2,

        /// <summary>A /dev/shm tmpfs.</summary>
        SharedMemory = 4,

        /// <summary>From root, setpriv drops to a host uid of the sandbox's own before bwrap (as the runtime did until it switched in the child).</summary>
        Setpriv = 8,

        /// <summary>From root, the forked child switches to a host uid of the sandbox's own before bwrap's exec (<see cref="HostUidStart"/>), as the runtime does.</summary>
        HostUid = 16,

        All = NoNestedUserNamespaces | SeccompAndStatus | SharedMemory,
    }

    public static Task<double> RunEchoAsync() => RunEchoAsync(Hardening.None);

    public static async Task<double> RunEchoAsync(Hardening hardening)
    {
        var started = Stopwatch.GetTimestamp();
        var hostUid = hardening.HasFlag(Hardening.HostUid) ? RandomUid() : (int?)null;
        var info = new ProcessStartInfo(hardening.HasFlag(Hardening.Setpriv) ? "setpriv" : hostUid is null ? "bwrap" : Bwrap.Value)
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = hostUid is not null,
            RedirectStandardError = hostUid is not null,
            UseShellExecute = false,
        };
        var arguments = info.ArgumentList;
        if (hardening.HasFlag(Hardening.Setpriv))
        {
            var uid = RandomUid().ToString(CultureInfo.InvariantCulture);
            foreach (var arg in (string[])[$"--reuid={uid}", $"--regid={uid}", "--clear-groups", "bwrap"])
            {
                arguments.Add(arg);
            }
        }

        Add(arguments, Namespaces);
        if (hardening.HasFlag(Hardening.NoNestedUserNamespaces))
        {
            Add(arguments, ["--unshare-user", "--disable-userns"]);
        }

        Add(arguments, Mounts);
        if (hardening.HasFlag(Hardening.SharedMemory))
        {
            Add(arguments, ["--perms", "1777", "--size", "268435456", "--tmpfs", "/dev/shm"]);
        }

        int[] inherited = [];
        var status = (Read: -1, Write: -1);
        if (hardening.HasFlag(Hardening.SeccompAndStatus))
        {
            status = LinuxDescriptors.Pipe();
            var seccomp = LinuxDescriptors.MemoryFile("kennel-seccomp", SeccompProgram.Value);
            inherited = [seccomp, status.Write];
            Add(arguments, ["--seccomp", seccomp.ToString(CultureInfo.InvariantCulture), "--json-status-fd", status.Write.ToString(CultureInfo.InvariantCulture)]);
        }

        Add(arguments, ["echo", "hello"]);
        Process process;
        try
        {
            process = await SandboxLauncher.Shared.StartAsync(info, hostUid, inherited);
        }
        finally
        {
            foreach (var fd in inherited)
            {
                LinuxDescriptors.CloseQuietly(fd);
            }
        }

        using (process)
        {
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            LinuxDescriptors.CloseQuietly(status.Read);
            if (process.ExitCode != 0 || output != "hello\n")
            {
                throw new InvalidOperationException($"raw bwrap ({hardening}) failed: exit {process.ExitCode}, output '{output}'");
            }

            return elapsed;
        }
    }

    private static int RandomUid() => 2_100_000_000 + Random.Shared.Next(0, 1000);

    private static void Add(System.Collections.ObjectModel.Collection<string> target, string[] items)
    {
        foreach (var item in items)
        {
            target.Add(item);
        }
    }
}
