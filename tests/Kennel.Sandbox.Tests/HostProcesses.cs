using System.Globalization;
using System.Text;

namespace Kennel.Sandbox.Tests;

/// <summary>What the host sees in its own /proc: the view from outside the sandbox.</summary>
public static class HostProcesses
{
    /// <summary>Pids whose command line contains <paramref name="marker"/>.</summary>
    public static IReadOnlyList<int> WithMarker(string marker) =>
        [.. All().Where(p => p.CommandLine.Contains(marker, StringComparison.Ordinal)).Select(p => p.Pid)];

    /// <summary>Pids whose argv is exactly <paramref name="argv"/>.</summary>
    public static IReadOnlyList<int> WithArgv(params string[] argv)
    {
        var expected = string.Join('\0', argv) + "\0";
        return [.. All().Where(p => p.CommandLine == expected).Select(p => p.Pid)];
    }

    /// <summary>
    /// <paramref name="pid"/> and its ancestors up to this test process, which started them: a workload and every process of
    /// its sandbox above it (bwrap, its pid 1). Throws if <paramref name="pid"/> does not descend from this process.
    /// </summary>
    public static IReadOnlyList<int> ChainFromHere(int pid)
    {
        var chain = new List<int>();
        while (pid != Environment.ProcessId)
        {
            if (pid <= 1)
            {
                throw new InvalidOperationException($"Process chain {string.Join(" <- ", chain)} does not descend from this test process.");
            }

            chain.Add(pid);
            var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("PPid:", StringComparison.Ordinal));
            pid = int.Parse(line["PPid:".Length..].Trim(), CultureInfo.InvariantCulture);
        }

        return chain;
    }

    /// <summary>The real, effective, saved and filesystem uids from /proc/PID/status.</summary>
    public static IReadOnlyList<int> Uids(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        return [.. line["Uid:".Length..].Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse)];
    }

    public static async Task<IReadOnlyList<int>> WaitForAsync(Func<IReadOnlyList<int>> find, Func<IReadOnlyList<int>, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var pids = find();
            if (until(pids) || DateTime.UtcNow > deadline)
            {
                return pids;
            }

            await Task.Delay(10);
        }
    }

    private static IEnumerable<(int Pid, string CommandLine)> All()
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string commandLine;
            try
            {
                commandLine = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Join(directory, "cmdline")));
            }
            catch (IOException)
            {
                continue; // It exited while being listed.
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            yield return (pid, commandLine);
        }
    }
}
