using System.Data.Common;
using System.Text.Json;
using Kennel.ControlPlane.Scheduling;
using Kennel.ControlPlane.Sessions;

namespace Kennel.ControlPlane.Daemons;

/// <summary>A daemon's schedule: the scheduler's runs of kind <c>daemon</c> start the daemon's sessions.</summary>
public sealed class DaemonSchedule(DaemonRuns daemonRuns, ChangeSignal signal) : IScheduledWork
{
    public const string KindName = "daemon";

    public string Kind => KindName;

    public static ScheduleDefinition? For(DaemonRow row) => row.TriggerType == DaemonValues.Schedule
        ? new ScheduleDefinition(row.Id, KindName, row.WorkspaceId, row.Cron!, row.Timezone!, row.CatchUp!)
        : null;

    public async Task<IReadOnlyList<string?>> StartAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<ScheduledRun> runs, CancellationToken cancellationToken)
    {
        var requests = runs.Select(run => new DaemonRunRequest(run.WorkspaceId, run.ScheduleId, new TriggerEvent(DaemonValues.Schedule,
            JsonSerializer.SerializeToUtf8Bytes(new ScheduledPayload(run.ScheduledFor, run.CatchUp), DaemonJson.Default.ScheduledPayload),
            run.ScheduledFor, run.CatchUp))).ToList();
        var results = await daemonRuns.StartAsync(connection, transaction, requests, cancellationToken);
        return [.. results.Select(r => r?.SessionId)];
    }

    public void Committed(IReadOnlyList<ScheduledRun> runs) => signal.PulseQueue();
}
