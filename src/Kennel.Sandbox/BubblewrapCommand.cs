using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Globalization;
using Kennel.Sandbox.Snapshots;

namespace Kennel.Sandbox;

/// <summary>
/// Builds a standby sandbox's command line and, when a session takes it, the arguments that make it that session's.
/// </summary>
/// <remarks>
/// A standby is bwrap started with its namespaces fixed on the command line, blocked reading the rest of its arguments
/// (NUL-separated, <c>--args 0</c>) from stdin. It has forked nothing yet, so the worker moves it into its cgroups while
/// it waits, and the whole tree is born inside them. bwrap takes its command only from the command line, so that is a
/// fixed trampoline: a shell in the sandbox that rebuilds the workload's argv from variables the arguments set, unsets
/// them, and execs it. Nothing of a session (its env, its script) ever appears in a host command line.
/// </remarks>
internal sealed class BubblewrapCommand
{
    // The variables that carry the workload's argv to the trampoline; a session's env may not use the prefix.
    private const string ArgvVariablePrefix = SandboxSpec.ReservedEnvPrefix;

    private const string CountVariable = ArgvVariablePrefix + "C";

    // Without the count (the worker closed stdin before it finished writing, or died), nothing runs: exit 125. bwrap
    // closes the descriptor it read its arguments from, so the workload gets /dev/null as stdin: end-of-file, as before.
    private const string Trampoline =
        "[ -n \"${" + CountVariable + "+x}\" ] || exit 125; n=$" + CountVariable + "; unset " + CountVariable + "; i=0; set --; " +
        "while [ \"$i\" -lt \"$n\" ]; do eval \"set -- \\\"\\$@\\\" \\\"\\$" + ArgvVariablePrefix + "$i\\\"\"; unset \"" + ArgvVariablePrefix + "$i\"; i=$((i+1)); done; " +
        "exec \"$@\" </dev/null";

    private readonly string _bwrapPath;
    private readonly string? _setprivPath;
    private readonly string[] _sandbox;
    private readonly string[] _filesystem;
    private readonly string[] _finish;

    /// <param name="bwrapPath">The bwrap executable.</param>
    /// <param name="setprivPath">From root, when the uid is switched by an exec (<see cref="BubblewrapOptions.SwitchUidWithSetpriv"/>): setpriv.</param>
    /// <param name="options">The runtime's options.</param>
    public BubblewrapCommand(string bwrapPath, string? setprivPath, BubblewrapOptions options)
    {
        _bwrapPath = bwrapPath;
        _setprivPath = setprivPath;
        _sandbox =
        [
            // Every namespace bwrap knows (user, pid, net, ipc, uts, mount, cgroup where possible); no --share-net.
            "--unshare-all",
            // A user namespace for certain, and none inside it: nested user namespaces count against a quota of the
            // host uid, and one session could use it up for all (the seccomp filter also refuses unshare and clone's
            // namespace flags).
            "--unshare-user",
            "--disable-userns",
            "--die-with-parent",
            "--new-session",
            "--hostname", "sandbox",
            "--uid", "1000",
            "--gid", "1000",
        ];

        _filesystem =
        [
            "--proc", "/proc",
            "--dev", "/dev",
            "--perms", "1777", "--size", options.TmpSizeBytes.ToString(CultureInfo.InvariantCulture), "--tmpfs", "/tmp",
            "--perms", "0755", "--size", options.WorkdirSizeBytes.ToString(CultureInfo.InvariantCulture), "--tmpfs", "/work",
        ];

        _finish =
        [
            // Only /tmp, /work and /dev/shm are writable: the rest of /dev and the root are read-only. Neither remount is
            // recursive, so the tmpfs mounts on them stay writable.
            "--remount-ro", "/dev",
            "--remount-ro", "/",
            "--chdir", "/work",
            "--clearenv",
            "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
            "--setenv", "HOME", "/work",
            "--setenv", "USER", "sandbox",
            "--setenv", "LANG", "C.UTF-8",
        ];
    }

    /// <summary>
    /// Starts a standby: bwrap in every namespace, waiting for its arguments on stdin. From root, the launcher starts it
    /// as the sandbox's host uid (<see cref="SandboxLauncher.StartAsync"/>), or setpriv switches to it before bwrap.
    /// </summary>
    /// <param name="setprivUid">With setpriv: the host uid (and gid) it switches to, with no groups.</param>
    /// <param name="seccompFd">The descriptor bwrap reads the seccomp program from (see <see cref="Seccomp.SeccompPolicy"/>).</param>
    /// <param name="statusFd">Where bwrap writes its JSON status: an <c>exit-code</c> only when the sandbox was built and its command ran.</param>
    /// <param name="shareNetwork">Keep the network namespace bwrap is started in (a session's own, with its veth) instead of a new empty one.</param>
    public ProcessStartInfo StandbyStartInfo(int? setprivUid, int seccompFd, int statusFd, bool shareNetwork = false)
    {
        var startInfo = new ProcessStartInfo(setprivUid is null ? _bwrapPath : _setprivPath!)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };

        // setpriv and bwrap need no environment; the worker's must not reach them.
        startInfo.Environment.Clear();

        var arguments = startInfo.ArgumentList;
        if (setprivUid is { } uid)
        {
            var id = uid.ToString(CultureInfo.InvariantCulture);
            AddAll(arguments, [$"--reuid={id}", $"--regid={id}", "--clear-groups", _bwrapPath]);
        }
        AddAll(arguments, _sandbox);
        if (shareNetwork)
        {
            arguments.Add("--share-net");
        }
        AddAll(arguments, ["--seccomp", seccompFd.ToString(CultureInfo.InvariantCulture)]);
        AddAll(arguments, ["--json-status-fd", statusFd.ToString(CultureInfo.InvariantCulture)]);
        AddAll(arguments, ["--args", "0", "--", "/bin/sh", "-c", Trampoline, "sh"]);
        return startInfo;
    }

    /// <summary>Whether the host uid is switched by setpriv's exec rather than in the forked child.</summary>
    public bool SwitchesUidWithSetpriv => _setprivPath is not null;

    /// <summary>The rest of a standby's arguments, NUL-separated, for the session it now runs.</summary>
    /// <param name="snapshot">The root to build.</param>
    /// <param name="env">The spec's environment.</param>
    /// <param name="argv">The workload.</param>
    /// <param name="fileMounts">Binds of the session's files and skills (see <see cref="SandboxFiles"/>, <see cref="SandboxSkills"/>): made before the root turns read-only.</param>
    /// <param name="shmSizeBytes">The cap of the session's /dev/shm.</param>
    public byte[] SessionArguments(
        Snapshot snapshot, IReadOnlyDictionary<string, string> env, IReadOnlyList<string> argv, IReadOnlyList<string> fileMounts, long shmSizeBytes)
    {
        var arguments = new List<string>(64);
        arguments.AddRange(snapshot.MountArguments);
        arguments.AddRange(fileMounts);
        arguments.AddRange(_filesystem);
        // POSIX shared memory and semaphores (Python's multiprocessing, Chromium, PostgreSQL) live here. Its pages are
        // charged to the session's memory cgroup like any other memory of the session.
        arguments.AddRange(["--perms", "1777", "--size", shmSizeBytes.ToString(CultureInfo.InvariantCulture), "--tmpfs", "/dev/shm"]);
        arguments.AddRange(_finish);
        foreach (var (name, value) in env)
        {
            arguments.AddRange(["--setenv", name, value]);
        }

        for (var i = 0; i < argv.Count; i++)
        {
            arguments.AddRange(["--setenv", ArgvVariablePrefix + i.ToString(CultureInfo.InvariantCulture), argv[i]]);
        }

        // Last, so a standby that reads only part of this runs nothing.
        arguments.AddRange(["--setenv", CountVariable, argv.Count.ToString(CultureInfo.InvariantCulture)]);
        var buffer = new System.Text.StringBuilder();
        foreach (var argument in arguments)
        {
            buffer.Append(argument).Append('\0');
        }

        return System.Text.Encoding.UTF8.GetBytes(buffer.ToString());
    }

    private static void AddAll(Collection<string> target, string[] items)
    {
        foreach (var item in items)
        {
            target.Add(item);
        }
    }
}
