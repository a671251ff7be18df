using System.Diagnostics;
using Kennel.Sandbox.Cgroups;

namespace Kennel.Sandbox.Tests;

/// <summary>A worker killed mid-session leaves its session cgroups behind; the next runtime removes them.</summary>
public sealed class LeftoverCgroupTests
{
    [Fact]
    public async Task A_new_runtime_removes_old_empty_session_cgroups_and_nothing_else()
    {
        var hierarchies = CgroupHierarchy.Parse(await File.ReadAllTextAsync("/proc/self/mountinfo"), await File.ReadAllTextAsync("/proc/self/cgroup"));
        var groups = hierarchies.Select(h => Path.Join(h.OwnDirectory, "kennel")).Where(Directory.Exists).ToList();
        var pidsGroup = Path.Join(hierarchies.Single(h => h.Controllers.Contains("pids")).OwnDirectory, "kennel");

        var leftover = $"left-{Guid.NewGuid():N}";
        var starting = $"starting-{Guid.NewGuid():N}";
        foreach (var group in groups)
        {
            Directory.CreateDirectory(Path.Join(group, leftover));
            Directory.SetLastWriteTimeUtc(Path.Join(group, leftover), DateTime.UtcNow.AddMinutes(-5));
            Directory.CreateDirectory(Path.Join(group, starting));
        }

        // Another worker's running sandbox: as old, but a process lives in it.
        var live = Path.Join(pidsGroup, $"live-{Guid.NewGuid():N}");
        Directory.CreateDirectory(live);
        Directory.SetLastWriteTimeUtc(live, DateTime.UtcNow.AddMinutes(-5));
        using var sleeper = Process.Start("sleep", "30");
        await File.WriteAllTextAsync(Path.Join(live, "cgroup.procs"), sleeper.Id.ToString());
        try
        {
            using var host = new SandboxHost(options => options);

            groups.ShouldAllBe(group => !Directory.Exists(Path.Join(group, leftover)));
            groups.ShouldAllBe(group => Directory.Exists(Path.Join(group, starting)));
            Directory.Exists(live).ShouldBeTrue();
        }
        finally
        {
            sleeper.Kill();
            await sleeper.WaitForExitAsync();
            groups.ForEach(group => Directory.Delete(Path.Join(group, starting)));

            // Once empty, it is an old leftover like any other, so a runtime that another test starts meanwhile may
            // remove it first.
            try
            {
                while (File.ReadAllText(Path.Join(live, "cgroup.procs")).Length > 0)
                {
                    await Task.Delay(10);
                }

                Directory.Delete(live);
            }
            catch (DirectoryNotFoundException)
            {
                // Removed already.
            }
        }
    }
}
