using System.Diagnostics.Metrics;
using Kennel.Contracts.Sessions;

namespace Kennel.ControlPlane.Observability;

/// <summary>
/// Kennel's own instruments, on the <c>Kennel</c> meter of this server's <see cref="IMeterFactory"/> (so two servers in
/// one process keep apart). The services record what happens where it happens; the gauges read
/// <see cref="FleetGauges"/>, which a scrape refreshes. README, Metrics, lists them as Prometheus shows them.
/// </summary>
public sealed class KennelMetrics
{
    public const string MeterName = "Kennel";

    // Seconds, from a few milliseconds (a queued session a held poll takes at once) to a schedule's catch-up.
    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    };

    private readonly Counter<long> sessionsEnded;
    private readonly Histogram<double> queueWait;
    private readonly Histogram<double> startLatency;
    private readonly Histogram<double> schedulerLateness;
    private readonly Counter<long> toolCalls;
    private readonly Counter<long> tokensIssued;
    private readonly Counter<long> tokensRefused;

    public KennelMetrics(IMeterFactory meters, FleetGauges fleet)
    {
        var meter = meters.Create(MeterName);
        sessionsEnded = meter.CreateCounter<long>("kennel.sessions.ended", "{session}", "Sessions that ended, by final status.");
        queueWait = meter.CreateHistogram("kennel.queue.wait", "s", "From a session's creation to a worker's claim of it.", advice: Seconds);
        startLatency = meter.CreateHistogram("kennel.session.start", "s", "From a session's creation to its sandbox running.", advice: Seconds);
        schedulerLateness = meter.CreateHistogram("kennel.scheduler.lateness", "s",
            "From a scheduled run's time to its firing; catch_up marks the runs of missed times.", advice: Seconds);
        toolCalls = meter.CreateCounter<long>("kennel.mcp.tool.calls", "{call}", "MCP tool calls, by tool and outcome (ok or the tool error's code).");
        tokensIssued = meter.CreateCounter<long>("kennel.oauth.tokens.issued", "{token}", "Access tokens issued, by grant type.");
        tokensRefused = meter.CreateCounter<long>("kennel.oauth.tokens.refused", "{request}", "Token requests refused, by grant type and OAuth error.");

        meter.CreateObservableGauge("kennel.sessions", fleet.Sessions, "{session}", "Live sessions, by status (pending or running).");
        meter.CreateObservableGauge("kennel.queue.depth", fleet.QueueDepth, "{session}", "Sessions waiting for a worker.");
        meter.CreateObservableGauge("kennel.workers", fleet.Workers, "{worker}", "Enrolled workers, by health (healthy: polled within its lease).");
        meter.CreateObservableGauge("kennel.workers.capacity", fleet.Capacity, null,
            "What the healthy workers offer, by resource (slots, vcpus, memory_mb).");
        meter.CreateObservableGauge("kennel.workers.capacity.used", fleet.CapacityUsed, null,
            "What the sessions workers hold take, by resource (slots, vcpus, memory_mb).");
    }

    public void SessionEnded(SessionStatus status) => sessionsEnded.Add(1, new KeyValuePair<string, object?>("status", status.ToWire()));

    public void QueueWait(long createdAt, long claimedAt) => queueWait.Record(Elapsed(createdAt, claimedAt));

    public void SessionStarted(long createdAt, long startedAt) => startLatency.Record(Elapsed(createdAt, startedAt));

    public void ScheduledRunFired(DateTimeOffset scheduledFor, DateTimeOffset firedAt, bool catchUp) =>
        schedulerLateness.Record(Math.Max(0, (firedAt - scheduledFor).TotalSeconds), new KeyValuePair<string, object?>("catch_up", catchUp));

    /// <summary>A tool call's outcome: <c>ok</c>, or its tool error's code. A name no tool has counts as <c>(unknown)</c>, so callers cannot add series.</summary>
    public void ToolCalled(string tool, string outcome) =>
        toolCalls.Add(1, new KeyValuePair<string, object?>("tool", tool), new KeyValuePair<string, object?>("outcome", outcome));

    public void TokenIssued(string grantType) => tokensIssued.Add(1, new KeyValuePair<string, object?>("grant_type", GrantType(grantType)));

    public void TokenRefused(string grantType, string error) =>
        tokensRefused.Add(1, new KeyValuePair<string, object?>("grant_type", GrantType(grantType)), new KeyValuePair<string, object?>("error", error));

    // The form's value is the caller's: only the grant types Kennel serves become labels.
    private static string GrantType(string value) => value is "authorization_code" or "refresh_token" ? value : "other";

    private static double Elapsed(long fromMs, long toMs) => Math.Max(0, toMs - fromMs) / 1000.0;
}
