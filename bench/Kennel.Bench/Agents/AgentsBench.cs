using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Kennel.Bench.Agents;

/// <summary>
/// <c>scripts/bench.sh agents</c>: Kennel's agent runtime against a <see cref="LocalProvider"/>, with OpenClaw on the
/// same provider as the reference in the same run when it is installed (<see cref="OpenClawReference"/>). Options:
/// <c>--turns N (300)</c> turns without tools, interleaved with OpenClaw's <c>--openclaw-turns N (100)</c>;
/// <c>--exec-turns N (50)</c> turns with one <c>exec</c>; <c>--concurrent N (200)</c> conversations running turns at once for
/// <c>--seconds N (20)</c> against a provider that takes <c>--slow-ms N (500)</c>; <c>--growth-turns N (10000)</c> turns in all
/// before the RSS after; <c>--conversations N (10000)</c> for the list (OpenClaw: <c>--openclaw-sessions N (1000)</c>, since it
/// creates about a dozen a second); <c>--idle-seconds N (10)</c>; <c>--no-openclaw</c>.
/// </summary>
internal static class AgentsBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Options(args);
        await using var provider = await LocalProvider.StartAsync(TimeSpan.Zero);
        await using var kennel = await KennelAgents.StartAsync(provider);
        var (openclaw, missing) = options.Flag("--no-openclaw") ? (null, "--no-openclaw was given") : await OpenClawReference.StartAsync(provider);
        var report = new AgentsReport { OpenClawMissing = missing };
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(options.Int("--idle-seconds", 10)));
            report.KennelIdleRssMb = kennel.RssMegabytes();
            report.OpenClawIdleRssMb = openclaw?.RssMegabytes();

            // Warm-up: JIT, connection pools, the first sandbox; OpenClaw loads its agent runtime and plugins.
            for (var i = 0; i < 10; i++)
            {
                await kennel.TurnAsync($"warm-{i}", "say hello");
                await kennel.TurnAsync($"warm-exec-{i}", "exec: echo hi", toolSteps: 1);
                if (openclaw is not null && i < 5)
                {
                    await openclaw.TurnAsync($"warm-{i}", "say hello");
                }
            }

            provider.Reset();
            await kennel.TurnAsync("prompt-size", "say hello");
            report.KennelPrompt = provider.Prompts[0];
            if (openclaw is not null)
            {
                provider.Reset();
                await openclaw.TurnAsync("prompt-size", "say hello");
                report.OpenClawPrompt = provider.Prompts[0];
            }

            var turns = options.Int("--turns", 300);
            var openclawTurns = options.Int("--openclaw-turns", 100);
            for (var i = 0; i < turns; i++)
            {
                report.KennelTurns.Add(await MeasureAsync(provider, () => kennel.TurnAsync($"turn-{i}", "say hello")));
                if (openclaw is not null && i < openclawTurns)
                {
                    report.OpenClawTurns.Add(await MeasureAsync(provider, () => openclaw.TurnAsync($"turn-{i}", "say hello")));
                }
            }
            for (var i = 0; i < options.Int("--exec-turns", 50); i++)
            {
                report.KennelExecTurns.Add(await MeasureAsync(provider, () => kennel.TurnAsync($"exec-{i}", "exec: echo hi", toolSteps: 1)));
            }
            report.OpenClawBusyRssMb = openclaw?.RssMegabytes();

            provider.Delay = TimeSpan.FromMilliseconds(options.Int("--slow-ms", 500));
            (report.ConcurrentTurns, report.ConcurrentSeconds, report.ConcurrentOverheadMs) =
                await ConcurrentAsync(kennel, options.Int("--concurrent", 200), TimeSpan.FromSeconds(options.Int("--seconds", 20)), provider.Delay);
            report.Concurrency = options.Int("--concurrent", 200);
            provider.Delay = TimeSpan.Zero;

            var done = 10 + 10 + 1 + turns + options.Int("--exec-turns", 50) + report.ConcurrentTurns;
            report.GrowthTurns = Math.Max(done, options.Int("--growth-turns", 10_000));
            await GrowAsync(kennel, report.GrowthTurns - done, "growth");
            report.KennelBusyRssMb = kennel.RssMegabytes();

            var conversations = options.Int("--conversations", 10_000);
            await kennel.CreateConversationsAsync(conversations, report.GrowthTurns - 10, "list");
            report.Conversations = Math.Max(conversations, report.GrowthTurns - 10);
            for (var i = 0; i < 200; i++)
            {
                report.KennelListMs.Add(await kennel.ListConversationsAsync());
            }
            if (openclaw is not null)
            {
                var sessions = options.Int("--openclaw-sessions", 1000);
                await openclaw.CreateSessionsAsync(sessions, openclawTurns + 6, "list");
                (report.OpenClawSessions, var ms) = await openclaw.ListSessionsAsync(30);
                report.OpenClawListMs.AddRange(ms);
            }
        }
        finally
        {
            if (openclaw is not null)
            {
                await openclaw.DisposeAsync();
            }
        }
        Console.WriteLine(report.ToMarkdown());
        return 0;
    }

    /// <summary>A turn's client time and its overhead: that time less the provider's own time for the turn's model calls.</summary>
    private static async Task<(double Ms, double OverheadMs)> MeasureAsync(LocalProvider provider, Func<Task<double>> turn)
    {
        provider.Reset();
        var ms = await turn();
        return (ms, ms - provider.HeldMs.Sum());
    }

    private static async Task<(int Turns, double Seconds, List<double> OverheadMs)> ConcurrentAsync(KennelAgents kennel, int conversations,
        TimeSpan duration, TimeSpan modelTime)
    {
        var overhead = new List<double>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, conversations).Select(async c =>
        {
            for (var i = 0; clock.Elapsed < duration; i++)
            {
                var ms = await kennel.TurnAsync($"concurrent-{c}", "say hello");
                lock (overhead)
                {
                    overhead.Add(ms - modelTime.TotalMilliseconds);
                }
            }
        }));
        return (overhead.Count, clock.Elapsed.TotalSeconds, overhead);
    }

    /// <summary><paramref name="turns"/> turns, 16 at a time, each in a new conversation keyed <paramref name="prefix"/>-N.</summary>
    internal static Task GrowAsync(KennelAgents kennel, int turns, string prefix)
    {
        var next = 0;
        return Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= turns)
            {
                await kennel.TurnAsync($"{prefix}-{i}", "say hello");
            }
        }));
    }

    private sealed class Options(string[] args)
    {
        public int Int(string name, int fallback)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
        }

        public bool Flag(string name) => args.Contains(name);
    }
}
