using System.Globalization;
using System.Text;

namespace Kennel.Bench;

internal sealed record Report(BenchOptions Options, double IdleRssMb, double BusyRssMb, List<double> Raw, List<double> Kennel, int Completed, double Seconds)
{
    public string ToMarkdown()
    {
        var rawP50 = Percentile(Raw, 50);
        var kennelP50 = Percentile(Kennel, 50);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {Environment.MachineName}, {DateTime.UtcNow:yyyy-MM-dd}, store {(Options.DatabaseUrl is null ? "SQLite" : "PostgreSQL")}");
        text.AppendLine();
        text.AppendLine("| measure | raw bwrap | kennel | overhead | ratio |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var p in new[] { 50, 90, 99 })
        {
            var r = Percentile(Raw, p);
            var k = Percentile(Kennel, p);
            text.AppendLine(CultureInfo.InvariantCulture, $"| echo hello create→exit p{p} (ms, n={Kennel.Count}) | {r:0.00} | {k:0.00} | {k - r:+0.00;-0.00} | {k / r:0.00}× |");
        }
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"- p50 overhead over raw bwrap: **{kennelP50 - rawP50:0.00} ms** (target ≤ 10 ms)");
        text.AppendLine(CultureInfo.InvariantCulture, $"- sustained: **{Completed / Seconds:0.0} sessions/s** ({Completed} sessions in {Seconds:0.0} s, {Options.Concurrency} closed-loop clients; target ≥ 100)");
        text.AppendLine(CultureInfo.InvariantCulture, $"- control plane RSS: **{IdleRssMb:0.0} MB idle** (target ≤ 100 MB), {BusyRssMb:0.0} MB after the throughput run");
        return text.ToString();
    }

    internal static double Percentile(List<double> values, int percentile)
    {
        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }
}
