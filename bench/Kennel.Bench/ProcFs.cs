using System.Globalization;
using System.Runtime.InteropServices;

namespace Kennel.Bench;

/// <summary>What the benchmarks read about a process from /proc, and a free loopback port for the servers they start.</summary>
internal static partial class ProcFs
{
    private const int RusageChildren = -1; // RUSAGE_CHILDREN

    /// <summary>
    /// User + system CPU time of this process's children (and theirs) that have exited and been waited for, so far
    /// (<c>getrusage(RUSAGE_CHILDREN)</c>): the difference across one sandbox run is the CPU of its whole tree.
    /// </summary>
    public static TimeSpan ChildrenCpuTime()
    {
        // struct rusage on 64-bit Linux: two struct timevals (seconds, microseconds), then fourteen longs.
        Span<long> usage = stackalloc long[18];
        if (GetRusage(RusageChildren, usage) != 0)
        {
            throw new InvalidOperationException("getrusage failed");
        }

        return TimeSpan.FromMicroseconds(((usage[0] + usage[2]) * 1_000_000) + usage[1] + usage[3]);
    }

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRusage(int who, Span<long> usage);

    /// <summary>User + system CPU time a process has used so far: fields 14 and 15 of /proc/PID/stat, in ticks of 1/100 s.</summary>
    public static TimeSpan CpuTime(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>VmRSS of a process, in MiB.</summary>
    public static double RssMegabytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
