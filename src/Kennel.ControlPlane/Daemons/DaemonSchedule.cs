using System.Data.Common;
using System.Text.Json;
using Kennel.ControlPlane.Scheduling;
using Kennel.ControlPlane.Sessions;

namespace Kennel.ControlPlane.Daemons;

/// <summary>A daemon's schedule: the scheduler's runs of kind <c>daemon</c> start the daemon's sessions.</summary>
public sealed class DaemonSchedule(DaemonRuns runs, ChangeSignal signal) : IScheduledWork
{
    public const string KindName = "daemon";

    public string Kind => KindName;

    public static ScheduleDefinition? For(DaemonRow row) => row.TriggerType == DaemonValues.Schedule
        ? new ScheduleDefinition(row.Id, KindName, row.WorkspaceId, row.Cron!, row.Timezone!, row.CatchUp!)
        : null;

    public async Task<string?> StartAsync(DbConnection connection, DbTransaction transaction, ScheduledRun run, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new ScheduledPayload(run.ScheduledFor, run.CatchUp), DaemonJson.Default.ScheduledPayload);
        var trigger = new TriggerEvent(DaemonValues.Schedule, payload, run.ScheduledFor, run.CatchUp);
        var result = await runs.StartAsync(connection, transaction, run.WorkspaceId, run.ScheduleId, trigger, cancellationToken);
        return result?.SessionId;
    }

    public void Committed(IReadOnlyList<ScheduledRun> runs) => signal.PulseQueue();
}
