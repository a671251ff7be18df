using System.Globalization;
using Kennel.Contracts.Servers;

namespace Kennel.ControlPlane.Servers;

/// <summary>
/// What a machine is, read over SSH with one POSIX shell script that prints <c>key=value</c> lines and changes nothing,
/// and whether it can become a worker: Linux on x86_64 or aarch64 (the architectures Kennel is published for), with
/// root or passwordless sudo (a worker sets up cgroups and namespaces).
/// </summary>
public static class ServerProbe
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs as the user; bubblewrap is tried as the worker would run it: as root, through sudo when the user is not root.</summary>
    public const string Script = """
        export LC_ALL=C
        echo "os=$(uname -s)"
        echo "arch=$(uname -m)"
        echo "kernel=$(uname -r)"
        if [ -r /etc/os-release ]; then (. /etc/os-release; echo "distro=$ID"; echo "version=$VERSION_ID"); fi
        echo "uid=$(id -u)"
        as_root=""
        if [ "$(id -u)" = 0 ]; then echo sudo=0; elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then echo sudo=1; as_root="sudo -n"; else echo sudo=0; fi
        if [ -d /run/systemd/system ]; then echo systemd=1; else echo systemd=0; fi
        for pm in apt-get dnf yum zypper apk pacman; do if command -v "$pm" >/dev/null 2>&1; then echo "pm=$pm"; break; fi; done
        if command -v bwrap >/dev/null 2>&1; then
          echo bwrap=1
          if $as_root bwrap --ro-bind / / --unshare-all --die-with-parent true >/dev/null 2>&1; then echo bwrap_ok=1; else echo bwrap_ok=0; fi
        else echo bwrap=0; fi
        if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo cgroups=v2; echo "controllers=$(cat /sys/fs/cgroup/cgroup.controllers)"
        elif [ -d /sys/fs/cgroup/memory ]; then
          if [ -d /sys/fs/cgroup/unified ]; then echo cgroups=hybrid; else echo cgroups=v1; fi
          echo "controllers=$(ls /sys/fs/cgroup | tr '\n' ' ')"
        else echo cgroups=none; fi
        awk '/^MemTotal:/ {print "mem_total_kb=" $2} /^MemAvailable:/ {print "mem_available_kb=" $2}' /proc/meminfo
        (df -Pk /var/lib 2>/dev/null || df -Pk /) | awk 'NR == 2 {print "disk_free_kb=" $4}'
        echo "cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
        echo probe=done
        """;

    public static readonly IReadOnlySet<string> SupportedArchitectures = new HashSet<string>(StringComparer.Ordinal) { "x86_64", "aarch64" };

    /// <summary>Null when the output is not the probe's (the login shell is not a POSIX shell, or the machine is not Unix).</summary>
    public static ServerSystem? Parse(string output)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n'))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                values.TryAdd(line[..equals], line[(equals + 1)..].Trim());
            }
        }
        if (!values.TryGetValue("probe", out var done) || done != "done" || !values.TryGetValue("os", out var os))
        {
            return null;
        }
        var cgroups = values.GetValueOrDefault("cgroups") ?? "none";
        var controllers = (values.GetValueOrDefault("controllers") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        return new ServerSystem
        {
            Os = os,
            Distribution = NonEmpty(values.GetValueOrDefault("distro")),
            Version = NonEmpty(values.GetValueOrDefault("version")),
            Architecture = values.GetValueOrDefault("arch") ?? "",
            Kernel = values.GetValueOrDefault("kernel") ?? "",
            Root = values.GetValueOrDefault("uid") == "0",
            PasswordlessSudo = values.GetValueOrDefault("sudo") == "1",
            Systemd = values.GetValueOrDefault("systemd") == "1",
            PackageManager = NonEmpty(values.GetValueOrDefault("pm")),
            BubblewrapInstalled = values.GetValueOrDefault("bwrap") == "1",
            BubblewrapUsable = values.GetValueOrDefault("bwrap_ok") == "1",
            Cgroups = cgroups,
            CgroupsUsable = cgroups != "none" && controllers.Contains("memory") && controllers.Contains("pids") && (controllers.Contains("cpu") || controllers.Contains("cpu,cpuacct")),
            MemoryTotalMb = Number(values, "mem_total_kb") / 1024,
            MemoryAvailableMb = Number(values, "mem_available_kb") / 1024,
            DiskFreeMb = Number(values, "disk_free_kb") / 1024,
            Cpus = (int)Math.Min(Number(values, "cpus"), int.MaxValue),
        };
    }

    /// <summary>Why this machine cannot become a worker, or null when it can.</summary>
    public static ConnectionError? Problem(ServerSystem system) =>
        system.Os != "Linux"
            ? new(ConnectionErrors.UnsupportedOs, $"The machine runs {system.Os}; Kennel's workers run on Linux.")
            : !SupportedArchitectures.Contains(system.Architecture)
                ? new(ConnectionErrors.UnsupportedOs, $"The machine's architecture is {system.Architecture}; Kennel's workers run on x86_64 and aarch64.")
                : !system.Root && !system.PasswordlessSudo
                    ? new(ConnectionErrors.InsufficientPrivileges,
                        "The user is not root and has no passwordless sudo ('sudo -n true' fails); a worker needs root to set up its sandboxes.")
                    : null;

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static long Number(Dictionary<string, string> values, string key) =>
        long.TryParse(values.GetValueOrDefault(key), NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : 0;
}
