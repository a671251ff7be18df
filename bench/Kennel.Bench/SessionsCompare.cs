using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace Kennel.Bench;

/// <summary>
/// <c>scripts/bench.sh --compare-with DIR [--compare-with DIR2 …] [--samples N] [--seconds N] [--idle-seconds N]</c>:
/// the session benchmark for this build and other builds side by side in one run. A <c>kennel serve</c> of each build
/// (DIR holds its kennel.dll) runs at once, each with its own data directory; their idle RSS is read at the same moment;
/// the create-to-exit latency of <c>echo hello</c> alternates sample by sample between raw bwrap and every build, in a new
/// order each round; then each build in turn sustains 16 clients while the others idle.
/// </summary>
internal static class SessionsCompare
{
    /// <summary>The directories given with each <c>--compare-with</c>.</summary>
    public static List<string> OtherBuilds(string[] args) =>
        [.. args.Index().Where(a => a.Item == "--compare-with" && a.Index + 1 < args.Length).Select(a => args[a.Index + 1])];

    public static async Task<int> RunAsync(BenchOptions options, IReadOnlyList<string> otherBuilds)
    {
        var builds = new List<(string Name, ServeProcess Server, HttpClient Http, string DataDir, List<double> Times)>();
        try
        {
            foreach (var (name, directory) in otherBuilds.Select(d => (d, (string?)d)).Prepend(("this build", null)))
            {
                var dataDir = Directory.CreateTempSubdirectory("kennel-bench-").FullName;
                var port = ProcFs.FreePort();
                var env = new Dictionary<string, string> { ["KENNEL_LISTEN"] = $"127.0.0.1:{port}", ["KENNEL_DATA_DIR"] = dataDir };
                var server = ServeProcess.Start(env, directory);
                await server.WaitUntilListeningAsync();
                var key = (await File.ReadAllTextAsync(Path.Combine(dataDir, "admin-api-key"))).Trim();
                var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
                builds.Add((name, server, http, dataDir, []));
            }

            await Task.Delay(TimeSpan.FromSeconds(options.IdleSeconds));
            var idleRss = builds.Select(b => b.Server.RssMegabytes()).ToList();

            var raw = new List<double>();
            for (var i = 0; i < 20; i++)
            {
                await RawBwrap.RunEchoAsync();
                foreach (var build in builds)
                {
                    await SessionRuns.RunOneAsync(build.Http);
                }
            }

            var order = new Random(20261207);
            var runs = builds.Select(b => (Func<Task>)(async () => b.Times.Add(await SessionRuns.RunOneAsync(b.Http))))
                .Append(async () => raw.Add(await RawBwrap.RunEchoAsync())).ToArray();
            for (var i = 0; i < options.LatencySamples; i++)
            {
                order.Shuffle(runs);
                foreach (var run in runs)
                {
                    await run();
                }
            }

            var sustained = new List<double>();
            foreach (var build in builds)
            {
                var (completed, seconds) = await SessionRuns.SustainedAsync(build.Http, options.Concurrency, TimeSpan.FromSeconds(options.ThroughputSeconds));
                sustained.Add(completed / seconds);
            }

            var rawP50 = Report.Percentile(raw, 50);
            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; raw bwrap p50 {rawP50:0.00} ms (n={raw.Count})");
            text.AppendLine();
            text.AppendLine("| build | kennel p50 | p90 | p50 overhead over raw bwrap | sustained (" + options.Concurrency.ToString(CultureInfo.InvariantCulture) + " clients) | idle RSS |");
            text.AppendLine("|---|---|---|---|---|---|");
            foreach (var (build, i) in builds.Select((b, i) => (b, i)))
            {
                var p50 = Report.Percentile(build.Times, 50);
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {build.Name} | {p50:0.00} ms | {Report.Percentile(build.Times, 90):0.00} ms | {p50 - rawP50:0.00} ms | {sustained[i]:0.0} sessions/s | {idleRss[i]:0.0} MB |");
            }

            Console.WriteLine(text.ToString());
            return 0;
        }
        finally
        {
            foreach (var build in builds)
            {
                build.Http.Dispose();
                await build.Server.StopAsync();
                build.Server.Dispose();
                Directory.Delete(build.DataDir, recursive: true);
            }
        }
    }
}
