using System.Runtime.InteropServices;

namespace Kennel.ControlPlane.Hosting;

/// <summary>
/// Returns an idle <c>kennel serve</c>'s unused memory to the system. Idle, the server's loops allocate a little (tens
/// of kilobytes a second), and the workstation GC sizes its youngest generation from the CPU cache (tens of megabytes
/// here), so a quiet server would otherwise go minutes without a collection while its resident size climbs by the
/// garbage; the C library's per-thread arenas keep freed pages too. So: one full, compacting collection a few seconds
/// after start (start-up leaves megabytes of garbage), then one a minute while the process stays quiet, each followed by
/// <c>malloc_trim</c>. "Quiet" is "no collection happened on its own since the last look": a busy server collects by
/// itself and is left alone, so the pause never lands on a loaded server. Only the serve and worker commands do this;
/// tests that host many servers in one process do not.
/// </summary>
public static class IdleTrim
{
    public static readonly TimeSpan First = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    // Below this much allocation since the last collection there is nothing worth a pause.
    private const long MinimumGarbage = 1 << 20;

    public static Task RunAsync(TimeProvider time, CancellationToken stopping) =>
        RunAsync(time, Trim, () => new GcCounts(GC.CollectionCount(0), GC.GetTotalAllocatedBytes()), stopping);

    /// <summary>How many young collections have happened, and how many bytes were ever allocated.</summary>
    internal readonly record struct GcCounts(int Collections, long Allocated);

    internal static async Task RunAsync(TimeProvider time, Action trim, Func<GcCounts> read, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(First, time, stopping).ConfigureAwait(false);
            trim();
            var last = read();
            using var timer = new PeriodicTimer(Interval, time);
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                var now = read();
                if (now.Collections != last.Collections)
                {
                    last = now; // it collected by itself: busy, and what it allocated is already dealt with
                }
                else if (now.Allocated - last.Allocated >= MinimumGarbage)
                {
                    trim();
                    last = read();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void Trim()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _ = MallocTrim(0);
            }
            catch (EntryPointNotFoundException)
            {
                // Not glibc (musl has no malloc_trim): the collection alone is done.
            }
        }
    }

    // DllImport, not LibraryImport: the signature is blittable, and this project has no unsafe code to allow.
    [DllImport("libc", EntryPoint = "malloc_trim")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MallocTrim(nuint pad);
}
