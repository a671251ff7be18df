using System.Globalization;

namespace Kennel.Bench;

/// <summary>
/// <c>mcp serve-cpu --builds NAME=DIR,NAME=DIR [--calls N] [--rounds R] [--rate-limit N]</c>: the server CPU per
/// <c>tools/call get-session</c> of the real endpoint (<c>kennel serve</c>, API key, rate limiter, SQLite) of several
/// builds, each DIR holding a build's <c>kennel.dll</c>, each in its own process with its own data directory, driven one
/// call at a time by <see cref="RawMcpClient"/>, the builds alternated round by round (the order rotated each round) so
/// that the machine's other work hits them alike. As in <see cref="FloorCpuBench"/>, the servers run without the thread
/// pool's spinning, so their CPU counts their work. <c>--rate-limit</c> sets <c>KENNEL_MCP_RATE_LIMIT</c> (0, off, as in
/// <c>mcp</c>; a large number measures the limiter without it refusing).
/// </summary>
internal static class ServeCpuBench
{
    public const string Argument = "serve-cpu";

    public static async Task<int> RunAsync(string[] args)
    {
        var builds = Option(args, "--builds", "this=" + AppContext.BaseDirectory).Split(',')
            .Select(b => (Name: b[..b.IndexOf('=', StringComparison.Ordinal)], Dir: b[(b.IndexOf('=', StringComparison.Ordinal) + 1)..])).ToArray();
        var calls = int.Parse(Option(args, "--calls", "5000"), CultureInfo.InvariantCulture);
        var rounds = int.Parse(Option(args, "--rounds", "7"), CultureInfo.InvariantCulture);
        var rateLimit = Option(args, "--rate-limit", "0");
        var servers = new List<(string Name, ServeProcess Process, string DataDir, RawMcpClient Client, List<double> Micros, List<double> Switches, int StatsPort, List<double> Bytes, List<double> Items)>();
        try
        {
            foreach (var (name, dir) in builds)
            {
                var dataDir = Directory.CreateTempSubdirectory("kennel-servecpu-").FullName;
                var port = ProcFs.FreePort();
                var statsPort = ProcFs.FreePort();
                var process = ServeProcess.Start(new Dictionary<string, string>
                {
                    ["KENNEL_LISTEN"] = $"127.0.0.1:{port}",
                    ["KENNEL_DATA_DIR"] = dataDir,
                    ["KENNEL_MCP_RATE_LIMIT"] = rateLimit,
                    ["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0",
                    ["DOTNET_STARTUP_HOOKS"] = typeof(StartupHook).Assembly.Location,
                    [StartupHook.PortVariable] = statsPort.ToString(CultureInfo.InvariantCulture),
                }, dir);
                await process.WaitUntilListeningAsync();
                var endpoint = new Uri($"http://127.0.0.1:{port}/mcp");
                var key = await McpBenchSession.CreateKeyAsync(port, dataDir);
                string sessionId;
                using (var http = new HttpClient())
                {
                    await using var client = await McpBench.ConnectAsync(endpoint, key, http);
                    sessionId = await McpBenchSession.FinishedSessionAsync(client);
                }
                var raw = await RawMcpClient.ConnectAsync(endpoint, key, "get-session", $$"""{"id":"{{sessionId}}"}""");
                servers.Add((name, process, dataDir, raw, [], [], statsPort, [], []));
                // Warm up (JIT tiers, pools) on twice a round's calls before anything counts.
                for (var i = 0; i < 2 * calls; i++)
                {
                    await raw.CallAsync();
                }
                Console.WriteLine($"{name}: pid {process.Id}, {dir}");
            }
            for (var round = 0; round < rounds; round++)
            {
                for (var turn = 0; turn < servers.Count; turn++)
                {
                    var server = servers[(round + turn) % servers.Count];
                    var stats = await StartupHook.ReadAsync(server.StatsPort);
                    var before = server.Process.CpuTime();
                    var switchesBefore = ProcFs.ContextSwitches(server.Process.Id).Voluntary;
                    for (var i = 0; i < calls; i++)
                    {
                        await server.Client.CallAsync();
                    }
                    server.Micros.Add((server.Process.CpuTime() - before).TotalMicroseconds / calls);
                    server.Switches.Add((double)(ProcFs.ContextSwitches(server.Process.Id).Voluntary - switchesBefore) / calls);
                    var statsAfter = await StartupHook.ReadAsync(server.StatsPort);
                    server.Bytes.Add((double)(statsAfter.Bytes - stats.Bytes) / calls);
                    server.Items.Add((double)(statsAfter.Items - stats.Items) / calls);
                }
                Console.WriteLine($"round {round + 1} (load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}): "
                    + string.Join("  ", servers.Select(s => $"{s.Name} {s.Micros[^1]:F1} µs, {s.Switches[^1]:F2} voluntary switches, {s.Bytes[^1]:F0} B, {s.Items[^1]:F2} work items")));
            }
            var baseline = Median(servers[0].Micros);
            foreach (var server in servers)
            {
                var sorted = server.Micros.Order().ToArray();
                // Each round's ratio to the first build's, in that round: what the load does to both cancels out.
                var ratios = server.Micros.Zip(servers[0].Micros, (mine, first) => mine / first).Order().ToArray();
                Console.WriteLine($"{server.Name}: median {Median(server.Micros):F1} µs per call (min {sorted[0]:F1}, max {sorted[^1]:F1}); "
                    + $"÷ {servers[0].Name}: {Median(server.Micros) / baseline:F2} of medians, median of per-round ratios {ratios[ratios.Length / 2]:F2} "
                    + $"(min {ratios[0]:F2}, max {ratios[^1]:F2}); {Median(server.Switches):F2} voluntary context switches, {Median(server.Bytes):F0} bytes allocated and {Median(server.Items):F2} thread-pool work items per call (medians); {rounds} rounds of {calls} calls");
            }
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.Client.DisposeAsync();
                await server.Process.StopAsync();
                server.Process.Dispose();
                Directory.Delete(server.DataDir, recursive: true);
            }
        }
        return 0;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string Option(string[] args, string name, string fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }
}
