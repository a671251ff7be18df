using System.Diagnostics;
using System.Globalization;
using Kennel.ControlPlane.Snapshots.Recipes;

namespace Kennel.ControlPlane.Snapshots.Build;

/// <summary>
/// Runs a build step in a bubblewrap sandbox of its own: every namespace but the network (a build may fetch packages;
/// sessions on the result get none), the step's root filesystem bound writable at <c>/</c>, root inside a user namespace.
/// From root, the sandbox runs as a host uid kept for builds (<see cref="SnapshotOptions.BuildUid"/>), which owns the
/// build's tree and nothing else on the host: the build's "root" can change its own image and no host file.
/// </summary>
public sealed class BuildSandbox(SnapshotOptions options)
{
    private const string Path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>The host uid that owns a build's tree and runs its steps; null runs them as this process's uid.</summary>
    public int? HostUid => Environment.IsPrivilegedProcess ? options.BuildUid : null;

    /// <summary>Hands a tree to the build uid (from root), so the build's root inside its user namespace owns it.</summary>
    public async Task OwnAsync(string rootfs, CancellationToken cancellationToken)
    {
        if (HostUid is not { } uid)
        {
            return;
        }
        var id = uid.ToString(CultureInfo.InvariantCulture);
        var start = new ProcessStartInfo("chown") { ArgumentList = { "-R", "-h", $"{id}:{id}", rootfs } };
        var errors = new List<string>();
        if (await BuildProcess.RunAsync(start, line => { errors.Add(line); return Task.CompletedTask; }, cancellationToken) != 0)
        {
            throw new SnapshotBuildException("build_failed", $"Cannot hand the build's tree to its uid: {string.Join(' ', errors.Take(3))}");
        }
    }

    /// <summary>Runs <paramref name="script"/> under <c>/bin/sh -c</c> in the tree; the exit code is the step's.</summary>
    /// <param name="binds">Host directories shown read-only under <c>/run/</c> (name, host path).</param>
    public Task<int> RunAsync(string rootfs, string script, SnapshotRecipe recipe, IReadOnlyList<(string Name, string Directory)> binds,
        Func<string, Task> log, CancellationToken cancellationToken)
    {
        var bwrap = File.Exists("/usr/bin/bwrap") ? "/usr/bin/bwrap" : "bwrap";
        var start = new ProcessStartInfo(HostUid is null ? bwrap : "setpriv") { WorkingDirectory = "/" };
        start.Environment.Clear();
        var arguments = start.ArgumentList;
        if (HostUid is { } uid)
        {
            var id = uid.ToString(CultureInfo.InvariantCulture);
            foreach (var argument in new[] { $"--reuid={id}", $"--regid={id}", "--clear-groups", bwrap })
            {
                arguments.Add(argument);
            }
        }
        // No --die-with-parent: its signal follows the thread that forked bwrap, and the runtime retires idle pool threads,
        // which killed steps mid-way. A cancelled step is killed with its whole tree instead (BuildProcess).
        Add(arguments, "--unshare-all", "--share-net", "--new-session", "--hostname", "build", "--uid", "0", "--gid", "0",
            "--bind", rootfs, "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run");
        var resolv = System.IO.Path.Join(rootfs, "etc", "resolv.conf");
        if (Directory.Exists(System.IO.Path.Join(rootfs, "etc")) && new FileInfo(resolv).LinkTarget is null && File.Exists("/etc/resolv.conf"))
        {
            // The host's resolver for the build's network, bound over the image's: nothing of it stays in the image.
            Add(arguments, "--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf");
        }
        foreach (var (name, directory) in binds)
        {
            Add(arguments, "--ro-bind", directory, "/run/" + name);
        }
        Add(arguments, "--chdir", recipe.Workdir is { } workdir && Directory.Exists(System.IO.Path.Join(rootfs, workdir)) ? workdir : "/",
            "--clearenv", "--setenv", "PATH", Path, "--setenv", "HOME", "/root", "--setenv", "LANG", "C.UTF-8",
            "--setenv", "DEBIAN_FRONTEND", "noninteractive");
        foreach (var (name, value) in recipe.Env)
        {
            Add(arguments, "--setenv", name, value);
        }
        Add(arguments, "--", "/bin/sh", "-c", script);
        return BuildProcess.RunAsync(start, log, cancellationToken);
    }

    private static void Add(System.Collections.ObjectModel.Collection<string> arguments, params string[] items)
    {
        foreach (var item in items)
        {
            arguments.Add(item);
        }
    }
}
