using System.Globalization;
using Dapper;
using Kennel.Contracts.Cost;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Kennel.Store;

namespace Kennel.ControlPlane.Cost;

/// <summary>
/// vCPU-seconds and CPU-seconds of a workspace's sessions, summed from the stored sessions on every call: there is no
/// counter to drift or to lose in a restart.
/// </summary>
public sealed class CostService(Database database, TimeProvider time)
{
    public const string ByDaemon = "daemon";
    public const string ByDay = "day";
    private static readonly TimeSpan DefaultRange = TimeSpan.FromDays(30);
    private static readonly TimeSpan MaxRange = TimeSpan.FromDays(366);

    public async Task<CostSummary> SummarizeAsync(Caller caller, string? from, string? to, string? groupBy, CancellationToken cancellationToken)
    {
        var end = Instants.Parse("to", to) ?? time.GetUtcNow();
        var start = Instants.Parse("from", from) ?? end - DefaultRange;
        if (start >= end || end - start > MaxRange)
        {
            throw ApiProblem.Invalid("from", $"from must be before to, and at most {MaxRange.TotalDays} days before it.");
        }
        var group = groupBy ?? ByDaemon;
        if (group is not (ByDaemon or ByDay))
        {
            throw ApiProblem.Invalid("groupBy", "groupBy must be daemon or day.");
        }
        var key = group == ByDay ? $"created_at / {Instants.DayMs}" : "daemon";
        var rows = await database.ReadAsync(async connection => (await connection.QueryAsync<GroupRow>(new CommandDefinition(
            $"SELECT {key} AS grp, COUNT(*) AS sessions, COALESCE(SUM(vcpu_seconds), 0) AS vcpu_seconds, COALESCE(SUM(cpu_seconds), 0) AS cpu_seconds " +
            $"FROM sessions WHERE workspace_id = @workspaceId AND created_at >= @start AND created_at < @end GROUP BY {key} ORDER BY {key}",
            new { workspaceId = caller.WorkspaceId, start = start.ToUnixTimeMilliseconds(), end = end.ToUnixTimeMilliseconds() },
            cancellationToken: cancellationToken))).ToList(), cancellationToken);
        var groups = rows.Select(r => new CostGroup
        {
            Daemon = group == ByDaemon ? r.Grp?.ToString() : null,
            Day = group == ByDay ? Instants.Day(Convert.ToInt64(r.Grp, CultureInfo.InvariantCulture)) : null,
            Sessions = r.Sessions,
            VcpuSeconds = Math.Round(r.VcpuSeconds, 3),
            CpuSeconds = Math.Round(r.CpuSeconds, 3),
        }).ToList();
        return new CostSummary
        {
            From = start,
            To = end,
            GroupBy = group,
            Groups = groups,
            Total = new CostTotals(groups.Sum(g => g.Sessions), Math.Round(rows.Sum(r => r.VcpuSeconds), 3), Math.Round(rows.Sum(r => r.CpuSeconds), 3)),
        };
    }

    private sealed class GroupRow
    {
        public object? Grp { get; set; }
        public long Sessions { get; set; }
        public double VcpuSeconds { get; set; }
        public double CpuSeconds { get; set; }
    }
}
