using System.Globalization;
using Kennel.Contracts.Cron;

namespace Kennel.ControlPlane.Mcp.AgentTools;

/// <summary>The text the cron tools answer with beside their structured content, and their shared descriptions.</summary>
public static class CronToolText
{
    public const string JobDescription = "The job: its id (cron_…) or its name.";
    public const int MaxJobLength = 64;

    public static string Schedule(CronSchedule schedule) => schedule.Kind switch
    {
        "cron" => $"cron '{schedule.Expr}' in {schedule.Tz}",
        "at" => $"once at {schedule.At}",
        _ => $"every {schedule.Every}",
    };

    public static string JobLine(CronJob job) => string.Concat(
        $"{job.Name} ({job.Id}): {(job.Enabled ? "enabled" : "disabled")}, {Schedule(job.Schedule)}, " +
        $"next {Time(job.State.NextRunAt)}, last {job.State.LastStatus ?? "never run"}",
        job.State.ConsecutiveErrors > 0 ? FormattableString.Invariant($", {job.State.ConsecutiveErrors} consecutive errors") : "",
        job.State.BackoffUntil is { } until ? $", runs due before {Time(until)} are skipped (backing off): {job.State.LastError}" : "",
        job.State.RunningRunId is { } running ? $", running {running}" : "");

    public static string RunLine(CronRun run) => string.Concat(
        $"{run.Id} {run.JobName} {run.Trigger} {run.Status}", run.Error is { } error ? $" ({error.Code}: {error.Message})" : "",
        $", started {Time(run.StartedAt)}", run.EndedAt is { } ended ? $", ended {Time(ended)}" : "",
        run.Usage is { } usage ? FormattableString.Invariant($", {usage.Input + usage.Output + usage.CacheRead + usage.CacheWrite} tokens") : "",
        run.CostUsd is { } cost ? FormattableString.Invariant($", ${cost:0.######}") : "",
        run.Delivery is { Status: not "none" } delivery ? $", delivery {delivery.Status}" : "");

    private static string Time(DateTimeOffset? at) => at is { } value ? value.ToString("u", CultureInfo.InvariantCulture) : "none";
}
