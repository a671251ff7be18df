using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Globalization;
using Kennel.Sandbox.Snapshots;

namespace Kennel.Sandbox;

/// <summary>Builds the command line that joins a session's cgroups, drops root and enters bubblewrap.</summary>
internal sealed class BubblewrapCommand
{
    // Runs as the worker's user, before anything of the workload exists. It opens the snapshot's generated files
    // as fds 3 and up, moves itself into every cgroup of the session, then execs (setpriv and) bwrap in the same
    // process, so the whole tree is born inside the cgroups and none of it can escape them. Paths arrive as
    // arguments and are never interpolated: eval sees only the fd number and a literal "$1".
    private const string Script = """
        fd=3
        n=$1
        shift
        while [ "$n" -gt 0 ]; do eval "exec $fd<\"\$1\"" || exit 125; fd=$((fd + 1)); shift; n=$((n - 1)); done
        n=$1
        shift
        while [ "$n" -gt 0 ]; do echo $$ >"$1" || exit 125; shift; n=$((n - 1)); done
        exec "$@"
        """;

    // The shell's redirections reach fd 9 at most.
    private const int FirstFileFd = 3;
    private const int MaxFiles = 7;

    /// <summary>The exit code of the launching shell when it could not set the sandbox up.</summary>
    public const int SetupFailedExitCode = 125;

    private readonly string[] _prefix;
    private readonly string[] _sandbox;
    private readonly string[] _filesystem;

    public BubblewrapCommand(string bwrapPath, string? setprivPath, BubblewrapOptions options)
    {
        // Never host root: from root, setpriv switches to the unprivileged host uid before bwrap runs.
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

    public ProcessStartInfo Build(Snapshot snapshot, IReadOnlyList<string> cgroupProcsFiles, IReadOnlyDictionary<string, string> env, IReadOnlyList<string> argv)
    {
        var startInfo = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };

        // The launching shell, setpriv and bwrap need no environment; the worker's must not reach them.
        startInfo.Environment.Clear();

        var files = snapshot.Files;
        if (files.Count > MaxFiles)
        {
            throw new InvalidOperationException($"Snapshot {snapshot.Name} has {files.Count} generated files; at most {MaxFiles} fit in the launching shell's descriptors.");
        }

        var arguments = startInfo.ArgumentList;
        arguments.Add("-c");
        arguments.Add(Script);
        arguments.Add("sh");
        arguments.Add(files.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var file in files)
        {
            arguments.Add(file.HostPath);
        }

        arguments.Add(cgroupProcsFiles.Count.ToString(CultureInfo.InvariantCulture));
        AddAll(arguments, cgroupProcsFiles);
        AddAll(arguments, _prefix);
        AddAll(arguments, _sandbox);
        AddAll(arguments, snapshot.MountArguments);
        for (var i = 0; i < files.Count; i++)
        {
            // Read-only twice over: 0444, and the root is remounted read-only after.
            arguments.Add("--perms");
            arguments.Add("0444");
            arguments.Add("--file");
            arguments.Add((FirstFileFd + i).ToString(CultureInfo.InvariantCulture));
            arguments.Add(files[i].SandboxPath);
        }

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
