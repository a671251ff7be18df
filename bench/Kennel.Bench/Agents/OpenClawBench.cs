using System.Globalization;
using System.Text;

namespace Kennel.Bench.Agents;

/// <summary>
/// <c>scripts/bench.sh openclaw [--turns N (200)] [--sessions 100,1000,10000] [--list-samples N (30)] [--idle-seconds N (10)]</c>:
/// OpenClaw's figures for the agent benchmark's reference, against a <see cref="LocalProvider"/> that answers at once:
/// its RSS at idle and after the turns, the prompt it sends for "say hello", its time per turn over the provider's, and
/// <c>sessions.list</c> (a page of 50) at each session count.
/// </summary>
internal static class OpenClawBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var turns = Option(args, "--turns", 200);
        var samples = Option(args, "--list-samples", 30);
        var idleSeconds = Option(args, "--idle-seconds", 10);
        var counts = (OptionText(args, "--sessions") ?? "100,1000,10000").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();

        await using var provider = await LocalProvider.StartAsync(TimeSpan.Zero);
        var (reference, missing) = await OpenClawReference.StartAsync(provider);
        if (reference is null)
        {
            Console.Error.WriteLine($"OpenClaw could not be run: {missing}");
            return 1;
        }
        await using (reference)
        {
            await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
            var idleRss = reference.RssMegabytes();
            var result = await MeasureAsync(reference, provider, turns, samples, counts);
            Console.WriteLine(Report(result with { IdleRssMb = idleRss }, turns));
        }
        return 0;
    }

    public sealed record Result(double IdleRssMb, double BusyRssMb, PromptSize Prompt, IReadOnlyList<double> TurnMs, IReadOnlyList<double> OverheadMs,
        IReadOnlyList<(int Sessions, IReadOnlyList<double> Ms)> Lists);

    public static async Task<Result> MeasureAsync(OpenClawReference reference, LocalProvider provider, int turns, int samples, IReadOnlyList<int> counts)
    {
        // The first turns load its agent runtime and plugins; they are warm-up, not overhead.
        for (var i = 0; i < 5; i++)
        {
            await reference.TurnAsync($"warm-{i}", "say hello");
        }
        provider.Reset();
        await reference.TurnAsync("prompt-size", "say hello");
        var prompt = provider.Prompts[^1];

        var turnMs = new List<double>();
        var overheadMs = new List<double>();
        for (var i = 0; i < turns; i++)
        {
            provider.Reset();
            var ms = await reference.TurnAsync($"turn-{i}", "say hello");
            turnMs.Add(ms);
            overheadMs.Add(ms - provider.HeldMs.Sum());
        }
        var busyRss = reference.RssMegabytes();

        var lists = new List<(int, IReadOnlyList<double>)>();
        var existing = turns + 6;
        foreach (var count in counts.Order())
        {
            await reference.CreateSessionsAsync(count, existing, $"s{count}");
            existing = Math.Max(existing, count);
            var (sessions, ms) = await reference.ListSessionsAsync(samples);
            lists.Add((sessions, ms));
        }
        return new Result(0, busyRss, prompt, turnMs, overheadMs, lists);
    }

    private static string Report(Result result, int turns)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"OpenClaw 2026.9.6 gateway, Node {Environment.GetEnvironmentVariable("BENCH_OPENCLAW_NODE_VERSION") ?? "24"}, a local OpenAI-compatible provider that answers at once.");
        text.AppendLine();
        text.AppendLine("| figure | value |");
        text.AppendLine("|---|---|");
        text.AppendLine(CultureInfo.InvariantCulture, $"| prompt for \"say hello\" | {result.Prompt.Characters:N0} characters (~{result.Prompt.EstimatedTokens:N0} tokens): {result.Prompt.Messages} messages of {result.Prompt.MessageCharacters:N0} characters, {result.Prompt.Tools} tools of {result.Prompt.ToolCharacters:N0} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| turn, client time (n={turns}) | p50 {AgentsReport.Percentile(result.TurnMs, 0.5):F1} ms, p99 {AgentsReport.Percentile(result.TurnMs, 0.99):F1} ms |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| turn overhead over the provider | p50 {AgentsReport.Percentile(result.OverheadMs, 0.5):F1} ms, p99 {AgentsReport.Percentile(result.OverheadMs, 0.99):F1} ms |");
        foreach (var (sessions, ms) in result.Lists)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| sessions.list (50) at {sessions:N0} sessions (n={ms.Count}) | p50 {AgentsReport.Percentile(ms, 0.5):F2} ms, p99 {AgentsReport.Percentile(ms, 0.99):F2} ms |");
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"| RSS, gateway and its workers | idle {result.IdleRssMb:F0} MB, after the turns {result.BusyRssMb:F0} MB |");
        return text.ToString();
    }

    private static int Option(string[] args, string name, int fallback) =>
        OptionText(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static string? OptionText(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
