namespace Kennel.ControlPlane.Hosting;

/// <summary>
/// One full, compacting collection a few seconds after <c>kennel serve</c> starts: start-up (migrations, the first
/// queries, building the endpoints and the metrics pipeline) leaves a few megabytes of garbage and heap the next
/// collection might not come for while the server idles, so it is returned to the system once, at a moment when no
/// request waits on the pause. Only the serve command does this; tests that host many servers in one process do not.
/// </summary>
public static class StartupTrim
{
    public static readonly TimeSpan After = TimeSpan.FromSeconds(3);

    public static async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            await Task.Delay(After, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }
}
