namespace Kennel.ControlPlane.Hosting;

/// <summary>
/// Runs idempotent store upkeep (deleting what has expired) on every tick of a timer until the host stops. Every
/// replica may run it. A failed tick is reported and the next one tries again: the store may be briefly unreachable.
/// </summary>
public static class PeriodicUpkeep
{
    public static async Task RunAsync(
        TimeSpan interval, TimeProvider time, Func<CancellationToken, Task> work, Action<Exception> failed, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await work(stoppingToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    failed(exception);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }
}
