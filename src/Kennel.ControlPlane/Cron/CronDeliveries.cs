using System.Data.Common;
using System.Text;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Cron;
using Kennel.ControlPlane.Channels;
using Kennel.ControlPlane.Delivery;
using Kennel.ControlPlane.Hosting;

namespace Kennel.ControlPlane.Cron;

/// <summary>
/// A finished run's delivery, queued in the same transaction that records the run's end, so it is sent once whatever
/// happens to this process: for a webhook job, the result as JSON in the webhook outbox, signed with the job's secret;
/// for a channel job, the answer (or what went wrong) as a message in the channels' outbox, under the cron run's id.
/// </summary>
public sealed class CronDeliveries(WebhookOutbox outbox, KeyEncryption encryption, ChannelOutbox channels, ChannelStore channelStore, TimeProvider time)
{
    public const string SourceKind = "cron_run";

    /// <summary>Queues the delivery of <paramref name="run"/>'s result, if its job delivers.</summary>
    internal async Task EnqueueAsync(DbConnection connection, DbTransaction transaction, CronJobRow job, CronRunRow run, string? answer, int? exitCode,
        CancellationToken cancellationToken)
    {
        if (run.Delivery == CronValues.DeliveryChannel && job.ParsedDelivery is { Mode: CronValues.DeliveryChannel, Channel: { } channel, Chat: { } chat } delivery)
        {
            await channels.EnqueueAsync(connection, transaction, new ChannelOutbox.Outbound(job.WorkspaceId, channel, ChannelActions.Send, chat, delivery.Thread,
                Message(job, run, answer, exitCode), null, null, run.Id), time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
            return;
        }
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
        var messages = await channelStore.ByRunAsync(workspaceId, [.. runs.Where(r => r.Delivery == CronValues.DeliveryChannel).Select(r => r.Id)],
            cancellationToken);
        return runs.ToDictionary(r => r.Id, r => r.Delivery == CronValues.DeliveryChannel
            ? ChannelState(r, messages.GetValueOrDefault(r.Id))
            : r.Delivery != CronValues.DeliveryWebhook
            ? new CronRunDelivery { Status = CronValues.DeliveryNone }
            : states.TryGetValue(r.Id, out var state)
                ? new CronRunDelivery { Status = state.Status, Attempts = state.Attempts, Error = state.LastError, DeliveredAt = state.DeliveredAt }
                : new CronRunDelivery { Status = r.EndedAt is null || r.Status == CronValues.Skipped ? CronValues.DeliveryNone : "expired" },
            StringComparer.Ordinal);
    }

    /// <summary>A channel delivery's state, from its message: sent is delivered; a run that ended without one delivered nothing.</summary>
    private static CronRunDelivery ChannelState(CronRunRow run, ChannelMessageRow? message) => message is null
        ? new CronRunDelivery { Status = CronValues.DeliveryNone }
        : new CronRunDelivery
        {
            Status = message.Status == ChannelMessageStatus.Sent ? OutboundWebhookStatus.Delivered : message.Status,
            Attempts = message.Attempts,
            Error = message.LastError,
            DeliveredAt = message.SentAt is { } sent ? DateTimeOffset.FromUnixTimeMilliseconds(sent) : null,
        };

    /// <summary>The message a channel gets: the agent's answer, or the job's name and how the run ended.</summary>
    internal static string Message(CronJobRow job, CronRunRow run, string? answer, int? exitCode) => run.Status switch
    {
        CronValues.Succeeded when !string.IsNullOrWhiteSpace(answer) => answer,
        CronValues.Succeeded => $"Cron job '{job.Name}' ran ({run.Id})" + (exitCode is { } code ? $" and exited with code {code}." : "."),
        _ => $"Cron job '{job.Name}' run {run.Id} ended {run.Status.Replace('_', ' ')}" + (run.ErrorMessage is { } error ? $": {error}" : ".")
            + (exitCode is { } failedCode ? $" Exit code {failedCode}." : ""),
    };

    /// <summary>What the receiver gets: the run as <c>cron_runs</c> shows it, and the agent's answer or the workload's exit code.</summary>
    internal static string Body(CronRunRow run, string? answer, int? exitCode) => JsonSerializer.Serialize(new CronRunFinished
    {
        Type = "cron.run.finished",
        Run = run.ToContract(null),
        Answer = answer,
        ExitCode = exitCode,
    }, KennelJson.Default.CronRunFinished);
}
