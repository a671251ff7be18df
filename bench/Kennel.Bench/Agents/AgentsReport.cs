using System.Globalization;
using System.Text;

namespace Kennel.Bench.Agents;

/// <summary>What <see cref="AgentsBench"/> measured, as the Markdown for docs/benchmarks.md: Kennel and OpenClaw side by side.</summary>
internal sealed class AgentsReport
{
    public string? OpenClawMissing { get; init; }
    public double KennelIdleRssMb { get; set; }
    public double? OpenClawIdleRssMb { get; set; }
    public double KennelBusyRssMb { get; set; }
    public double? OpenClawBusyRssMb { get; set; }
    public PromptSize? KennelPrompt { get; set; }
    public PromptSize? OpenClawPrompt { get; set; }
    public List<(double Ms, double OverheadMs)> KennelTurns { get; } = [];
    public List<(double Ms, double OverheadMs)> OpenClawTurns { get; } = [];
    public List<(double Ms, double OverheadMs)> KennelExecTurns { get; } = [];
    public int Concurrency { get; set; }
    public int ConcurrentTurns { get; set; }
    public double ConcurrentSeconds { get; set; }
    public List<double> ConcurrentOverheadMs { get; set; } = [];
    public int GrowthTurns { get; set; }
    public int Conversations { get; set; }
    public List<double> KennelListMs { get; } = [];
    public int OpenClawSessions { get; set; }
    public List<double> OpenClawListMs { get; } = [];

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {Environment.MachineName}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, SQLite, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end.");
        text.AppendLine(OpenClawMissing is null
            ? $"OpenClaw 2026.9.6 on Node {Environment.GetEnvironmentVariable("BENCH_OPENCLAW_NODE_VERSION")}, same provider, same run."
            : $"OpenClaw not run: {OpenClawMissing}.");
        text.AppendLine();
        text.AppendLine("| figure | Kennel | OpenClaw | OpenClaw / Kennel |");
        text.AppendLine("|---|---|---|---|");
        Row(text, "prompt for \"say hello\" to main, characters", KennelPrompt?.Characters, OpenClawPrompt?.Characters, "N0");
        Row(text, "prompt, estimated tokens (chars / 4)", KennelPrompt?.EstimatedTokens, OpenClawPrompt?.EstimatedTokens, "N0");
        Row(text, "prompt, tools offered", KennelPrompt?.Tools, OpenClawPrompt?.Tools, "N0");
        foreach (var p in new[] { 0.5, 0.99 })
        {
            Row(text, $"turn without tools, overhead over the model, p{p * 100:0} (ms; n={KennelTurns.Count}/{OpenClawTurns.Count})",
                Percentile(KennelTurns.Select(t => t.OverheadMs), p), OpenClawTurns.Count > 0 ? Percentile(OpenClawTurns.Select(t => t.OverheadMs), p) : null, "F2");
        }
        Row(text, "turn without tools, client time p50 (ms)", Percentile(KennelTurns.Select(t => t.Ms), 0.5),
            OpenClawTurns.Count > 0 ? Percentile(OpenClawTurns.Select(t => t.Ms), 0.5) : null, "F2");
        Row(text, "turn with one exec, client time p50 (ms)", Percentile(KennelExecTurns.Select(t => t.Ms), 0.5), null, "F2");
        foreach (var p in new[] { 0.5, 0.99 })
        {
            Row(text, $"turn with one exec, overhead over the model, p{p * 100:0} (ms; n={KennelExecTurns.Count}; includes the sandbox)",
                Percentile(KennelExecTurns.Select(t => t.OverheadMs), p), null, "F2");
        }
        Row(text, $"list (a page of 50) at {Conversations:N0} / {OpenClawSessions:N0} conversations, p50 (ms)",
            Percentile(KennelListMs, 0.5), OpenClawListMs.Count > 0 ? Percentile(OpenClawListMs, 0.5) : null, "F2");
        Row(text, "list, p99 (ms)", Percentile(KennelListMs, 0.99), OpenClawListMs.Count > 0 ? Percentile(OpenClawListMs, 0.99) : null, "F2");
        Row(text, "RSS at idle (MB; OpenClaw: the gateway and its workers)", KennelIdleRssMb, OpenClawIdleRssMb, "F1");
        Row(text, $"RSS after the turns (MB; Kennel: {GrowthTurns:N0} turns, OpenClaw: {OpenClawTurns.Count + 6})", KennelBusyRssMb, OpenClawBusyRssMb, "F1");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{Concurrency} conversations running turns at once against a provider that takes the model time: {ConcurrentTurns / ConcurrentSeconds:F1} turns/s " +
            $"({ConcurrentTurns} in {ConcurrentSeconds:F1} s), overhead over the model p50 {Percentile(ConcurrentOverheadMs, 0.5):F1} ms, p99 {Percentile(ConcurrentOverheadMs, 0.99):F1} ms.");
        return text.ToString();
    }

    private static void Row(StringBuilder text, string figure, double? kennel, double? openclaw, string format) =>
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| {figure} | {Format(kennel, format)} | {Format(openclaw, format)} | {(kennel is > 0 && openclaw is { } o ? $"{o / kennel.Value:F1}×" : "")} |");

    private static string Format(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "n/a";

    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(p * sorted.Length))];
    }
}
