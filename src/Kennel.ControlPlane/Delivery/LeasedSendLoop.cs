using Kennel.ControlPlane.Sessions;
using Kennel.Store;

namespace Kennel.ControlPlane.Delivery;

/// <summary>
/// The loop of a sender that claims outbound rows under leases (the webhook outbox, channel messages): on a
/// single-process store it first expires the leases a dead process held; then it sends what is due, batch after batch,
/// and when a batch was not full waits for the outbox's change signal or the poll interval; a failed pass is logged and
/// the next one tries again.
/// </summary>
internal static class LeasedSendLoop
{
    public const int BatchSize = 16;

    public static async Task RunAsync(Database database, ChangeSignal signal, TimeProvider time, Func<CancellationToken, Task> expireAllLeases,
        Func<CancellationToken, Task<int>> sendDue, Action<Exception> passFailed, CancellationToken stoppingToken)
    {
        try
        {
            if (database.IsExclusive)
            {
                await expireAllLeases(stoppingToken);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            passFailed(exception); // the leases run out instead
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            var changed = signal.OutboxChanged();
            var sent = 0;
            try
            {
                sent = await sendDue(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                passFailed(exception);
            }
            if (sent < BatchSize)
            {
                await ChangeSignal.WaitAsync(changed, WebhookSender.PollInterval, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}
