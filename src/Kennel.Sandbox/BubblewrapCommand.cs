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

    private readonly string? _userName;
    private readonly string[] _prefix;
    private readonly string[] _sandbox;
    private readonly string[] _filesystem;

    /// <param name="bwrapPath">The bwrap executable.</param>
    /// <param name="userName">From root: the host user .NET switches the child to before exec (see <see cref="HostUser"/>).</param>
    /// <param name="setprivPath">From root, when <paramref name="userName"/> is null: setpriv, which drops root before bwrap instead.</param>
    /// <param name="options">The runtime's options.</param>
    public BubblewrapCommand(string bwrapPath, string? userName, string? setprivPath, BubblewrapOptions options)
    {
        // Never host root: from root, the forked child switches to the unprivileged host user before its first
        // exec, or setpriv does before bwrap runs.
        _userName = userName;
        _prefix = setprivPath is null
            ? [bwrapPath]
            : [setprivPath, $"--reuid={options.HostUid.ToString(CultureInfo.InvariantCulture)}", $"--regid={options.HostGid.ToString(CultureInfo.InvariantCulture)}", "--clear-groups", bwrapPath];

        _sandbox =
        [
            // Every namespace bwrap knows (user, pid, net, ipc, uts, mount, cgroup where possible); no --share-net.
            "--unshare-all",
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
            // Only /tmp and /work are writable: /dev (and so /dev/shm) and the root are read-only.
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

    /// <summary>Starts a standby: bwrap in every namespace, waiting for its arguments on stdin.</summary>
    public ProcessStartInfo StandbyStartInfo()
    {
        var startInfo = new ProcessStartInfo(_prefix[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };

        if (_userName is not null)
        {
            // .NET calls setgroups, setgid and setuid in the forked child, before its exec.
            startInfo.UserName = _userName;
        }

        // setpriv and bwrap need no environment; the worker's must not reach them.
        startInfo.Environment.Clear();

        var arguments = startInfo.ArgumentList;
        for (var i = 1; i < _prefix.Length; i++)
        {
            arguments.Add(_prefix[i]);
        }

        AddAll(arguments, _sandbox);
        arguments.Add("--args");
        arguments.Add("0");
        arguments.Add("--");
        arguments.Add("/bin/sh");
        arguments.Add("-c");
        arguments.Add(Trampoline);
        arguments.Add("sh");
        return startInfo;
    }

    /// <summary>The rest of a standby's arguments, NUL-separated, for the session it now runs.</summary>
    /// <param name="snapshot">The root to build.</param>
    /// <param name="env">The spec's environment.</param>
    /// <param name="argv">The workload.</param>
    /// <param name="fileMounts">Binds of the session's files (see <see cref="SandboxFiles"/>): made before the root turns read-only.</param>
    public byte[] SessionArguments(
        Snapshot snapshot, IReadOnlyDictionary<string, string> env, IReadOnlyList<string> argv, IReadOnlyList<string> fileMounts)
    {
        var arguments = new List<string>(64);
        arguments.AddRange(snapshot.MountArguments);
        arguments.AddRange(fileMounts);
        arguments.AddRange(_filesystem);
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
