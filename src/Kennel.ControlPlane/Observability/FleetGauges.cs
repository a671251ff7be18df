using System.Diagnostics.Metrics;
using Dapper;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;

namespace Kennel.ControlPlane.Observability;

/// <summary>
/// The figures behind the gauges: live sessions, the queue, the workers and what they hold. A scrape refreshes them with
/// three small queries before the exporter reads them (a gauge's callback cannot wait for the store), so nothing is read
/// between scrapes. Each query walks a partial index of live sessions (<c>sessions_queue</c>, <c>sessions_worker</c>)
/// or the small <c>workers</c> table, never the history of ended sessions. They are the store's figures, the same from
/// every replica.
/// </summary>
public sealed class FleetGauges(Database database, ControlPlaneOptions options, TimeProvider time)
{
    private volatile Snapshot? current;

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var since = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)options.LeaseTtl.TotalMilliseconds;
        current = await database.ReadAsync(async connection =>
        {
            var claimed = (await connection.QueryAsync<(string Status, long Sessions, long Vcpus, long MemoryMb)>(new CommandDefinition(
                "SELECT status, COUNT(*), COALESCE(SUM(vcpus), 0), COALESCE(SUM(memory_mb), 0) FROM sessions " +
                $"WHERE worker_id IS NOT NULL AND status IN {SessionStore.NonTerminal} GROUP BY status",
                cancellationToken: cancellationToken))).ToList();
            var (unassigned, queued) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN held = 0 THEN 1 ELSE 0 END), 0) FROM sessions WHERE status = 'pending' AND worker_id IS NULL",
                cancellationToken: cancellationToken));
            var workers = await connection.QuerySingleAsync<(long All, long Healthy, long Slots, long Vcpus, long MemoryMb)>(new CommandDefinition(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN last_seen_at >= @since THEN 1 ELSE 0 END), 0), " +
                "COALESCE(SUM(CASE WHEN last_seen_at >= @since THEN slots ELSE 0 END), 0), " +
                "COALESCE(SUM(CASE WHEN last_seen_at >= @since THEN vcpus ELSE 0 END), 0), " +
                "COALESCE(SUM(CASE WHEN last_seen_at >= @since THEN memory_mb ELSE 0 END), 0) FROM workers",
                new { since }, cancellationToken: cancellationToken));
            var running = claimed.FirstOrDefault(c => c.Status == "running");
            var assigned = claimed.FirstOrDefault(c => c.Status == "pending");
            return new Snapshot(
                Pending: unassigned + assigned.Sessions,
                Running: running.Sessions,
                Queued: queued,
                HealthyWorkers: workers.Healthy,
                LostWorkers: workers.All - workers.Healthy,
                Capacity: new Resources(workers.Slots, workers.Vcpus, workers.MemoryMb),
                Used: new Resources(running.Sessions + assigned.Sessions, running.Vcpus + assigned.Vcpus, running.MemoryMb + assigned.MemoryMb));
        }, cancellationToken);
    }

    internal IEnumerable<Measurement<long>> Sessions() => current is { } now
        ? [new(now.Pending, Tag("status", "pending")), new(now.Running, Tag("status", "running"))]
        : [];

    internal IEnumerable<Measurement<long>> QueueDepth() => current is { } now ? [new(now.Queued)] : [];

    internal IEnumerable<Measurement<long>> Workers() => current is { } now
        ? [new(now.HealthyWorkers, Tag("health", "healthy")), new(now.LostWorkers, Tag("health", "lost"))]
        : [];

    internal IEnumerable<Measurement<long>> Capacity() => current is { } now ? now.Capacity.Measurements() : [];

    internal IEnumerable<Measurement<long>> CapacityUsed() => current is { } now ? now.Used.Measurements() : [];

    private static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);

    private sealed record Snapshot(long Pending, long Running, long Queued, long HealthyWorkers, long LostWorkers, Resources Capacity, Resources Used);

    private sealed record Resources(long Slots, long Vcpus, long MemoryMb)
    {
        public IEnumerable<Measurement<long>> Measurements() =>
            [new(Slots, Tag("resource", "slots")), new(Vcpus, Tag("resource", "vcpus")), new(MemoryMb, Tag("resource", "memory_mb"))];
    }
}
