using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Globalization;
using Kennel.Sandbox.Snapshots;

namespace Kennel.Sandbox;

/// <summary>Builds the command line that waits for the session's cgroups, drops root and enters bubblewrap.</summary>
internal sealed class BubblewrapCommand
{
    // The gate, when the session has cgroups. It runs as the sandbox's host uid already and never forks: it waits
    // for one line on stdin, which the worker writes only after moving this process into every cgroup of the
    // session, then execs bwrap in the same process. So the whole tree is born inside the cgroups. End-of-file
    // instead of the line means the worker gave up: nothing is started.
    private const string Gate = "read -r go || exit 125; exec \"$@\"";

    /// <summary>The exit code of the gate when the worker closed its stdin without letting it through.</summary>
    public const int GateClosedExitCode = 125;

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

    /// <param name="snapshot">The root to build.</param>
    /// <param name="gated">Whether the child must wait at the gate until the worker has moved it into the session's cgroups.</param>
    /// <param name="env">The spec's environment.</param>
    /// <param name="argv">The workload.</param>
    /// <param name="fileMounts">Binds of the session's files (see <see cref="SandboxFiles"/>): made before the root turns read-only.</param>
    public ProcessStartInfo Build(Snapshot snapshot, bool gated, IReadOnlyDictionary<string, string> env, IReadOnlyList<string> argv, IReadOnlyList<string> fileMounts)
    {
        var startInfo = new ProcessStartInfo(gated ? "/bin/sh" : _prefix[0])
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

        // The gate, setpriv and bwrap need no environment; the worker's must not reach them.
        startInfo.Environment.Clear();

        var arguments = startInfo.ArgumentList;
        if (gated)
        {
            arguments.Add("-c");
            arguments.Add(Gate);
            arguments.Add("sh");
            arguments.Add(_prefix[0]);
        }

        for (var i = 1; i < _prefix.Length; i++)
        {
            arguments.Add(_prefix[i]);
        }

        AddAll(arguments, _sandbox);
        AddAll(arguments, snapshot.MountArguments);
        AddAll(arguments, fileMounts);
        AddAll(arguments, _filesystem);
        foreach (var (name, value) in env)
        {
            arguments.Add("--setenv");
            arguments.Add(name);
            arguments.Add(value);
        }

        arguments.Add("--");
        AddAll(arguments, argv);
        return startInfo;
    }

    private static void AddAll(Collection<string> target, IReadOnlyList<string> items)
    {
        for (var i = 0; i < items.Count; i++)
        {
            target.Add(items[i]);
        }
    }
}
