using System.Data.Common;
using Dapper;
using Kennel.ControlPlane.Scheduling;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;

namespace Kennel.ControlPlane.Cron;

/// <summary>A cron job's schedule: the scheduler's runs of kind <c>cron</c> fire the job through <see cref="CronLauncher"/>.</summary>
public sealed class CronJobSchedule(Database database, CronLauncher launcher, ChangeSignal signal) : IScheduledWork
{
    public const string KindName = "cron";

    public string Kind => KindName;

    /// <summary>The job's schedule in the scheduler's terms. Runs missed while no control plane was up fire once, as a catch-up.</summary>
    public static ScheduleDefinition For(CronJobRow job, ScheduleDefinitionText text) =>
        new(job.Id, KindName, job.WorkspaceId, text.Expression, text.Timezone, CatchUpPolicy.Once);

    public async Task<IReadOnlyList<string?>> StartAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<ScheduledRun> runs, CancellationToken cancellationToken)
    {
        var ids = runs.Select(r => r.ScheduleId).Distinct(StringComparer.Ordinal).ToArray();
        var jobs = (await connection.QueryAsync<CronJobRow>(new CommandDefinition(
            $"SELECT {CronStore.JobColumns} FROM cron_jobs WHERE id {database.InList("ids")}", new { ids }, transaction,
            cancellationToken: cancellationToken))).ToDictionary(j => j.Id, StringComparer.Ordinal);
        var results = new List<string?>(runs.Count);
        foreach (var run in runs)
        {
            if (!jobs.TryGetValue(run.ScheduleId, out var job) || job.WorkspaceId != run.WorkspaceId || job.Enabled == 0)
            {
                results.Add(null);
                continue;
            }
            var fired = await launcher.FireAsync(connection, transaction, job, run.CatchUp ? CronValues.TriggerCatchUp : CronValues.TriggerSchedule,
                run.ScheduledFor, cancellationToken);
            results.Add(fired.Id);
        }
        return results;
    }

    public void Committed(IReadOnlyList<ScheduledRun> runs)
    {
        signal.PulseRunQueue();
        signal.PulseQueue();
    }
}
