using System.Diagnostics;

namespace Kennel.Bench;

/// <summary>
/// The baseline: plain bwrap with the same namespaces and test-minimal-like mounts Kennel uses, started and reaped
/// directly, with no control plane, no cgroups and no privilege drop.
/// </summary>
internal static class RawBwrap
{
    private static readonly string[] Args =
    [
        "--unshare-all", "--die-with-parent", "--new-session", "--clearenv", "--setenv", "PATH", "/usr/bin:/bin",
        "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/work", "--chdir", "/work",
        "echo", "hello",
    ];

    public static async Task<double> RunEchoAsync()
    {
        var started = Stopwatch.GetTimestamp();
        var info = new ProcessStartInfo("bwrap") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in Args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (process.ExitCode != 0 || output != "hello\n")
        {
            throw new InvalidOperationException($"raw bwrap failed: exit {process.ExitCode}, output '{output}'");
        }
        return elapsed;
    }
}
