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

    /// <summary>
    /// Context switches of all a process's threads so far, voluntary (a thread blocked or waited) and not (the scheduler
    /// took the CPU away), from each /proc/PID/task/TID/status; threads that have exited are not counted.
    /// </summary>
    public static (long Voluntary, long Involuntary) ContextSwitches(int pid)
    {
        long voluntary = 0, involuntary = 0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        voluntary += long.Parse(line.AsSpan(line.IndexOf(':', StringComparison.Ordinal) + 1).Trim(), CultureInfo.InvariantCulture);
                    }
                    else if (line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        involuntary += long.Parse(line.AsSpan(line.IndexOf(':', StringComparison.Ordinal) + 1).Trim(), CultureInfo.InvariantCulture);
                    }
                }
            }
            catch (IOException)
            {
                // the thread exited while being read
            }
        }
        return (voluntary, involuntary);
    }

    /// <summary>VmRSS of a process, in MiB.</summary>
    public static double RssMegabytes(int pid) => StatusMegabytes(pid, "VmRSS:");

    /// <summary>A size field of /proc/PID/status (<c>VmRSS:</c>, <c>RssAnon:</c>, <c>RssFile:</c>), in MiB.</summary>
    public static double StatusMegabytes(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>A process and all its descendants, parents first, from the parent field of each /proc/PID/stat.</summary>
    public static IReadOnlyList<int> Tree(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                (children.TryGetValue(parent, out var list) ? list : children[parent] = []).Add(pid);
            }
            catch (IOException)
            {
                // exited while being read
            }
        }
        var tree = new List<int> { root };
        for (var i = 0; i < tree.Count; i++)
        {
            tree.AddRange(children.GetValueOrDefault(tree[i]) ?? []);
        }
        return tree;
    }

    /// <summary>VmRSS of a process and all its descendants, in MiB.</summary>
    public static double TreeRssMegabytes(int root) => Tree(root).Sum(pid =>
    {
        try
        {
            return RssMegabytes(pid);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            return 0; // exited, or a zombie with no VmRSS
        }
    });

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
