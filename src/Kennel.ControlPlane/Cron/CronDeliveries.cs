using System.Data.Common;
using System.Text;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Cron;
using Kennel.ControlPlane.Delivery;
using Kennel.ControlPlane.Hosting;

namespace Kennel.ControlPlane.Cron;

/// <summary>
/// A finished run's delivery: for a webhook job, the result as JSON queued in the outbox in the same transaction that
/// records the run's end, so it is sent once whatever happens to this process, signed with the job's secret.
/// </summary>
public sealed class CronDeliveries(WebhookOutbox outbox, KeyEncryption encryption)
{
    public const string SourceKind = "cron_run";

    /// <summary>Queues the delivery of <paramref name="run"/>'s result, if its job delivers.</summary>
    internal async Task EnqueueAsync(DbConnection connection, DbTransaction transaction, CronJobRow job, CronRunRow run, string? answer, int? exitCode,
        CancellationToken cancellationToken)
    {
        if (run.Delivery != CronValues.DeliveryWebhook || job.ParsedDelivery is not { Mode: CronValues.DeliveryWebhook, Url: { } url }
            || job.WebhookSecret is not { } sealedSecret)
        {
            return;
        }
        var secret = Encoding.UTF8.GetString(encryption.Decrypt(CronService.SecretContext(job.WorkspaceId, job.Id), sealedSecret));
        await outbox.EnqueueAsync(connection, transaction, new OutboundWebhook(job.WorkspaceId, SourceKind, run.Id, url, secret, Body(run, answer, exitCode)),
            cancellationToken);
    }

    /// <summary>Sends what was queued without waiting for the outbox's next poll; after the commit.</summary>
    public void Wake() => outbox.Wake();

    /// <summary>The delivery state of each run: none for runs of jobs that do not deliver, pending until the outbox has tried.</summary>
    public async Task<Dictionary<string, CronRunDelivery>> StatesAsync(string workspaceId, IReadOnlyList<CronRunRow> runs, CancellationToken cancellationToken)
    {
        var delivering = runs.Where(r => r.Delivery == CronValues.DeliveryWebhook).Select(r => r.Id).ToList();
        IReadOnlyDictionary<string, OutboundWebhookState> states = delivering.Count == 0
            ? new Dictionary<string, OutboundWebhookState>()
            : await outbox.StatesAsync(workspaceId, SourceKind, delivering, cancellationToken);
        return runs.ToDictionary(r => r.Id, r => r.Delivery != CronValues.DeliveryWebhook
            ? new CronRunDelivery { Status = CronValues.DeliveryNone }
            : states.TryGetValue(r.Id, out var state)
                ? new CronRunDelivery { Status = state.Status, Attempts = state.Attempts, Error = state.LastError, DeliveredAt = state.DeliveredAt }
                : new CronRunDelivery { Status = r.EndedAt is null || r.Status == CronValues.Skipped ? CronValues.DeliveryNone : "expired" },
            StringComparer.Ordinal);
    }

    /// <summary>What the receiver gets: the run as <c>cron_runs</c> shows it, and the agent's answer or the workload's exit code.</summary>
    internal static string Body(CronRunRow run, string? answer, int? exitCode) => JsonSerializer.Serialize(new CronRunFinished
    {
        Type = "cron.run.finished",
        Run = run.ToContract(null),
        Answer = answer,
        ExitCode = exitCode,
    }, KennelJson.Default.CronRunFinished);
}
