using System.Globalization;
using System.Text;

namespace Kennel.SystemTests;

/// <summary>
/// Finds a workload's processes on the host by a marker the test put in its script or environment: a process whose
/// command line or environment holds it belongs to that workload (its bwrap, its shell, or a child such as sleep).
/// </summary>
public static class SandboxProcesses
{
    public static IReadOnlyList<int> WithMarker(string marker)
    {
        var needle = Encoding.UTF8.GetBytes(marker);
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }
            if (Holds(Path.Combine(dir, "cmdline"), needle) || Holds(Path.Combine(dir, "environ"), needle))
            {
                found.Add(pid);
            }
        }
        return found;
    }

    /// <summary>Waits for every process with the marker to be gone; returns those still there after <paramref name="grace"/>.</summary>
    public static async Task<IReadOnlyList<int>> SurvivorsAsync(string marker, TimeSpan grace)
    {
        var deadline = DateTime.UtcNow + grace;
        while (true)
        {
            var alive = WithMarker(marker);
            if (alive.Count == 0 || DateTime.UtcNow > deadline)
            {
                return alive;
            }
            await Task.Delay(100);
        }
    }

    private static bool Holds(string file, byte[] needle)
    {
        try
        {
            return File.ReadAllBytes(file).AsSpan().IndexOf(needle) >= 0;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false; // the process ended while we looked
        }
    }
}
