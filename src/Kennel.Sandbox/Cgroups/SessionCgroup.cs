using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Kennel.Sandbox.Cgroups;

/// <summary>
/// One sandbox's cgroups, one per hierarchy in use: created and joined while the sandbox waits on standby, limited when
/// a session takes it, removed after its tree is gone.
/// </summary>
internal sealed partial class SessionCgroup
{
    private const int RemoveAttempts = 50;
    private static readonly TimeSpan RemoveRetryDelay = TimeSpan.FromMilliseconds(10);

    private readonly CgroupLayout _layout;
    private readonly string _name;
    private readonly string[] _directories;
    private readonly Lock _gate = new();
    private bool _removed;

    private SessionCgroup(CgroupLayout layout, string name, string[] directories)
    {
        _layout = layout;
        _name = name;
        _directories = directories;
        ProcsFiles = [.. directories.Select(d => Path.Join(d, "cgroup.procs"))];
    }

    /// <summary>The files a pid is written to, to join every cgroup of the session.</summary>
    public IReadOnlyList<string> ProcsFiles { get; }

    /// <summary>Moves <paramref name="pid"/> into every cgroup of the session. Only its future children follow it, so it must have none yet.</summary>
    public void Join(int pid)
    {
        var value = pid.ToString(CultureInfo.InvariantCulture);
        foreach (var file in ProcsFiles)
        {
            CgroupFile.Write(file, value);
        }
    }

    /// <summary>Whether <see cref="Kill"/> takes the whole tree in one write, racing no fork.</summary>
    public bool CanKillTree => _layout.CanKillTree;

    /// <summary>Creates the cgroups named <paramref name="name"/>, with the pids limit, which is the same for every sandbox.</summary>
    public static SessionCgroup Create(CgroupLayout layout, string name, int pidsLimit)
    {
        CgroupGroup?[] roles = [layout.Unified, layout.Memory, layout.Cpu, layout.Pids, layout.Accounting];
        var directories = roles.OfType<CgroupGroup>().Select(g => g.SessionDirectory(name)).Distinct(StringComparer.Ordinal).ToArray();
        var created = new List<string>(directories.Length);
        try
        {
            foreach (var directory in directories)
            {
                Directory.CreateDirectory(directory);
                created.Add(directory);
            }

            if (layout.Pids is { } pids)
            {
                CgroupLimits.ApplyPids(pids.SessionDirectory(name), pidsLimit);
            }
        }
        catch
        {
            // Nothing has joined them yet, so they are empty and go at once.
            created.ForEach(Directory.Delete);
            throw;
        }

        return new SessionCgroup(layout, name, directories);
    }

    /// <summary>Sets the session's memory and CPU limits, before its workload starts.</summary>
    public void Apply(CgroupLimits limits)
    {
        if (_layout.Memory is { } memory)
        {
            limits.ApplyMemory(memory.SessionDirectory(_name), memory.IsUnified);
        }

        if (_layout.Cpu is { } cpu)
        {
            limits.ApplyCpu(cpu.SessionDirectory(_name), cpu.IsUnified);
        }
    }

    /// <summary>Kills every process in the cgroups. A no-op once they are removed.</summary>
    public void Kill()
    {
        lock (_gate)
        {
            if (_removed)
            {
                return;
            }

            if (_layout.CanKillTree)
            {
                CgroupFile.Write(Path.Join(_layout.Unified!.SessionDirectory(_name), "cgroup.kill"), "1");
                return;
            }

            // Without cgroup.kill, sweep until empty: each pass also catches children forked during the last one.
            for (var pass = 0; pass < 100 && ReadPids() is { Count: > 0 } pids; pass++)
            {
                foreach (var pid in pids)
                {
                    KillPid(pid);
                }
            }
        }
    }

    public bool IsPopulated()
    {
        if (_layout.Unified is { } unified)
        {
            return CgroupFile.ReadKeyed(Path.Join(unified.SessionDirectory(_name), "cgroup.events"), "populated") != 0;
        }

        return ReadPids().Count > 0;
    }

    /// <summary>CPU time of every process that ran in the session, or 0 where nothing counts it.</summary>
    public double CpuSeconds() => _layout.Accounting switch
    {
        null => 0,
        { IsUnified: true } g => CgroupFile.ReadKeyed(Path.Join(g.SessionDirectory(_name), "cpu.stat"), "usage_usec") / 1e6,
        { } g => CgroupFile.ReadNumber(Path.Join(g.SessionDirectory(_name), "cpuacct.usage")) / 1e9,
    };

    /// <summary>Whether the memory limit's OOM killer killed any process of the session.</summary>
    public bool OutOfMemory() => _layout.Memory switch
    {
        null => false,
        { IsUnified: true } g => CgroupFile.ReadKeyed(Path.Join(g.SessionDirectory(_name), "memory.events"), "oom_kill") > 0,
        { } g => CgroupFile.ReadKeyed(Path.Join(g.SessionDirectory(_name), "memory.oom_control"), "oom_kill") > 0,
    };

    /// <summary>
    /// Removes the cgroups. The kernel refuses while a dying process still holds them, so each removal is retried briefly.
    /// True when all are gone, which proves no process of the session is left.
    /// </summary>
    public async Task<bool> RemoveAsync(TimeProvider timeProvider, ILogger logger)
    {
        lock (_gate)
        {
            _removed = true;
        }

        var removedAll = true;
        foreach (var directory in _directories)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    Directory.Delete(directory);
                    break;
                }
                catch (DirectoryNotFoundException)
                {
                    break;
                }
                catch (IOException e)
                {
                    if (attempt == RemoveAttempts)
                    {
                        LogNotRemoved(logger, directory, e.Message);
                        removedAll = false;
                        break;
                    }
                }

                await Task.Delay(RemoveRetryDelay, timeProvider);
            }
        }

        return removedAll;
    }

    private List<int> ReadPids()
    {
        var pids = new List<int>();
        foreach (var line in File.ReadLines(Path.Join(_directories[0], "cgroup.procs")))
        {
            pids.Add(int.Parse(line, NumberStyles.None, CultureInfo.InvariantCulture));
        }

        return pids;
    }

    private static void KillPid(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (ArgumentException)
        {
            // It exited between reading cgroup.procs and the kill: the goal is met.
        }
        catch (InvalidOperationException)
        {
            // Same race, noticed later by Process.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove sandbox cgroup {Directory}: {Reason}")]
    private static partial void LogNotRemoved(ILogger logger, string directory, string reason);
}
