using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Kennel.Bench;

/// <summary>
/// <c>scripts/bench.sh mcp</c>: <c>tools/call get-session</c> over Streamable HTTP, Kennel against the official TypeScript
/// SDK on Node 22 serving the same answer, loaded alike by a thin client in one run; plus memory per open MCP session. At
/// one client, two floors take turns with them: bare Kestrel (<see cref="FloorServer"/>) and bare node:http
/// (bench/ts-reference/floor.mjs), both replaying Kennel's answer, which bound what any server on either stack can reach.
/// </summary>
internal static class McpBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == FloorServer.Argument)
        {
            return await FloorServer.RunKestrelAsync();
        }
        if (args.Length > 0 && args[0] == FloorServer.SdkArgument)
        {
            return await FloorServer.RunSdkAsync();
        }
        if (args.Length > 0 && args[0] == FloorCpuBench.Argument)
        {
            return await FloorCpuBench.RunAsync(args[1..]);
        }
        if (args.Length > 0 && args[0] == ServeCpuBench.Argument)
        {
            return await ServeCpuBench.RunAsync(args[1..]);
        }
        var seconds = Option(args, "--seconds", 10);
        var idleSessions = Option(args, "--sessions", 200);
        // Many clients, after the one-client cells: "--loaded 16,64" (the default); "--loaded none" skips them.
        var loadedIndex = Array.IndexOf(args, "--loaded");
        var loaded = loadedIndex >= 0 && loadedIndex + 1 < args.Length ? args[loadedIndex + 1] : "16,64";
        int[] loadedConcurrencies = loaded == "none" ? [] : [.. loaded.Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))];
        var node = Environment.GetEnvironmentVariable("BENCH_NODE") ?? throw new InvalidOperationException("BENCH_NODE is not set");
        var tsServer = Environment.GetEnvironmentVariable("BENCH_TS_SERVER") ?? throw new InvalidOperationException("BENCH_TS_SERVER is not set");
        var nodeFloorServer = Environment.GetEnvironmentVariable("BENCH_NODE_FLOOR") ?? throw new InvalidOperationException("BENCH_NODE_FLOOR is not set");

        var dataDir = Directory.CreateTempSubdirectory("kennel-mcpbench-").FullName;
        var kennelPort = ProcFs.FreePort();
        var kennelEnv = new Dictionary<string, string>
        {
            ["KENNEL_LISTEN"] = $"127.0.0.1:{kennelPort}",
            ["KENNEL_DATA_DIR"] = dataDir,
            ["KENNEL_MCP_RATE_LIMIT"] = "0",
        };
        // For trying runtime knobs on the server alone: BENCH_KENNEL_ENV="NAME=value;NAME=value".
        foreach (var pair in (Environment.GetEnvironmentVariable("BENCH_KENNEL_ENV") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            kennelEnv[pair[..pair.IndexOf('=', StringComparison.Ordinal)]] = pair[(pair.IndexOf('=', StringComparison.Ordinal) + 1)..];
        }
        using var kennel = ServeProcess.Start(kennelEnv);
        Process? ts = null;
        Process? nodeFloor = null;
        Process? kestrelFloor = null;
        Process? sdkFloor = null;
        try
        {
            await kennel.WaitUntilListeningAsync();
            var key = await McpBenchSession.CreateKeyAsync(kennelPort, dataDir);

            using var load = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) });
            var kennelTarget = new Target("kennel", new Uri($"http://127.0.0.1:{kennelPort}/mcp"), key, load, kennel.Id);

            // One finished session, and Kennel's own answer for it: the TS reference sends back the same document.
            string sessionId;
            string answerJson;
            await using (var client = await kennelTarget.ConnectAsync())
            {
                sessionId = await McpBenchSession.FinishedSessionAsync(client);
                var answer = await client.CallToolAsync("get-session", Args($$"""{"id":"{{sessionId}}"}"""));
                answerJson = JsonSerializer.Serialize(answer, McpJsonUtilities.DefaultOptions);
            }
            var resultFile = Path.Combine(dataDir, "reference-result.json");
            var reference = JsonNode.Parse(answerJson)!.AsObject();
            reference.Remove("isError");
            await File.WriteAllTextAsync(resultFile, reference.ToJsonString());

            var tsPort = ProcFs.FreePort();
            ts = StartChild(node, [tsServer], "ts", new() { ["PORT"] = Invariant(tsPort), ["REFERENCE_RESULT"] = resultFile });
            var tsTarget = new Target("ts", new Uri($"http://127.0.0.1:{tsPort}/mcp"), null, load, ts.Id);
            await WaitForPortAsync(tsPort, ts);

            var argsJson = $$"""{"id":"{{sessionId}}"}""";

            // The floors replay Kennel's own answer to this very call, headers and body bytes, and get the same request bytes.
            var cannedFile = Path.Combine(dataDir, "floor-answer.json");
            await using (var raw = await RawMcpClient.ConnectAsync(kennelTarget.Endpoint, key, "get-session", argsJson))
            {
                var (rawHeaders, rawBody) = await raw.CallRawAsync();
                CannedAnswer.FromRaw(rawHeaders, rawBody).Write(cannedFile);
            }
            var nodeFloorPort = ProcFs.FreePort();
            nodeFloor = StartChild(node, [nodeFloorServer], "node floor", new() { ["PORT"] = Invariant(nodeFloorPort), ["FLOOR_RESPONSE"] = cannedFile });
            var kestrelFloorPort = ProcFs.FreePort();
            kestrelFloor = StartChild("dotnet", [typeof(McpBench).Assembly.Location, "mcp", FloorServer.Argument], "kestrel floor",
                new() { ["PORT"] = Invariant(kestrelFloorPort), ["FLOOR_RESPONSE"] = cannedFile, ["DOTNET_gcConcurrent"] = "0" });
            var nodeFloorTarget = new Target("node:http floor", new Uri($"http://127.0.0.1:{nodeFloorPort}/mcp"), key, load, nodeFloor.Id);
            var kestrelFloorTarget = new Target("bare Kestrel floor", new Uri($"http://127.0.0.1:{kestrelFloorPort}/mcp"), key, load, kestrelFloor.Id);
            await WaitForPortAsync(nodeFloorPort, nodeFloor);
            await WaitForPortAsync(kestrelFloorPort, kestrelFloor);
            var sdkFloorPort = ProcFs.FreePort();
            sdkFloor = StartChild("dotnet", [typeof(McpBench).Assembly.Location, "mcp", FloorServer.SdkArgument], "sdk floor",
                new() { ["PORT"] = Invariant(sdkFloorPort), ["REFERENCE_RESULT"] = resultFile, ["DOTNET_gcConcurrent"] = "0" });
            var sdkFloorTarget = new Target("Kennel.Mcp + SDK, no auth/db", new Uri($"http://127.0.0.1:{sdkFloorPort}/mcp"), key, load, sdkFloor.Id);
            await WaitForPortAsync(sdkFloorPort, sdkFloor);
            var kennelBytes = await AnswerBytesAsync(kennelTarget, argsJson);
            var tsBytes = await AnswerBytesAsync(tsTarget, argsJson);

            // Memory first, while both heaps are small: after the load runs, the RSS would hide new sessions in free heap.
            var kennelMemory = await MemoryPerSessionAsync(kennelTarget, idleSessions, kennel.RssMegabytes);
            var tsMemory = await MemoryPerSessionAsync(tsTarget, idleSessions, () => ProcFs.RssMegabytes(ts.Id));

            // Warm all five (JIT, connection pools) before the throughput runs count.
            Target[] oneClientTargets = [kennelTarget, tsTarget, kestrelFloorTarget, nodeFloorTarget, sdkFloorTarget];
            foreach (var target in oneClientTargets)
            {
                await ClosedLoopAsync(target, 16, TimeSpan.FromSeconds(3), argsJson);
            }

            // One client: the five servers take turns in slices of about 2 s, the order rotated each round, so that
            // machine noise hits them alike; each server's slices add up to the cell's duration.
            var loadBefore = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            var oneClient = await InterleavedAsync(oneClientTargets, seconds, argsJson);
            var rows = new List<(int Concurrency, LoadResult Kennel, LoadResult Ts)> { (1, oneClient[0], oneClient[1]) };
            foreach (var concurrency in loadedConcurrencies)
            {
                var k = await ClosedLoopAsync(kennelTarget, concurrency, TimeSpan.FromSeconds(seconds), argsJson);
                var t = await ClosedLoopAsync(tsTarget, concurrency, TimeSpan.FromSeconds(seconds), argsJson);
                rows.Add((concurrency, k, t));
            }
            var load1 = File.ReadAllText("/proc/loadavg").Split(' ')[0];


            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {Environment.MachineName}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, kennel SQLite, KENNEL_MCP_RATE_LIMIT=0; {seconds} s per cell");
            text.AppendLine(CultureInfo.InvariantCulture, $"get-session answer (JSON-RPC result): kennel {kennelBytes} bytes, ts {tsBytes} bytes");
            text.AppendLine();
            text.AppendLine("| clients | kennel calls/s | ts calls/s | **kennel/ts** | kennel p50 / p99 (ms) | ts p50 / p99 (ms) | server CPU per call kennel / ts (µs) | load generator CPU per call, kennel / ts runs (µs) |");
            text.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var (c, k, t) in rows)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {c} | {k.PerSecond:0} | {t.PerSecond:0} | **{k.PerSecond / t.PerSecond:0.00}×** | {k.P(50):0.00} / {k.P(99):0.00} | {t.P(50):0.00} / {t.P(99):0.00} | {k.CpuPerCallUs:0} / {t.CpuPerCallUs:0} | {k.ClientCpuPerCallUs:0} / {t.ClientCpuPerCallUs:0} |");
            }
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"One client, with floors (the same thin client and request bytes; bare Kestrel and node:http replay Kennel's answer, Kennel.Mcp + SDK serves it from a tool with no auth, rate limiter or database) ({seconds} s each, interleaved in ~2 s slices; load average before / after {loadBefore} / {load1})");
            text.AppendLine();
            text.AppendLine("| 1 client | calls/s | **÷ ts calls/s** | p50 / p99 (ms) | p50 ÷ ts p50 | server CPU per call (µs) |");
            text.AppendLine("|---|---|---|---|---|---|");
            var tsOne = oneClient[1];
            for (var i = 0; i < oneClientTargets.Length; i++)
            {
                var r = oneClient[i];
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {oneClientTargets[i].Name} | {r.PerSecond:0} | **{r.PerSecond / tsOne.PerSecond:0.00}×** | {r.P(50):0.000} / {r.P(99):0.000} | {r.P(50) / tsOne.P(50):0.00} | {r.CpuPerCallUs:0} |");
            }
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"2× ts at 1 client needs {2 * tsOne.PerSecond:0} calls/s (a mean round trip of {500 / tsOne.PerSecond:0.000} ms); bare Kestrel makes {oneClient[2].PerSecond:0} ({1000 / oneClient[2].PerSecond:0.000} ms), Kennel {oneClient[0].PerSecond:0} ({1000 / oneClient[0].PerSecond:0.000} ms).");
            if (idleSessions > 0)
            {
                text.AppendLine();
                text.AppendLine(CultureInfo.InvariantCulture, $"| memory, {idleSessions} idle MCP sessions | RSS before | RSS after | per session |");
                text.AppendLine("|---|---|---|---|");
                text.AppendLine(CultureInfo.InvariantCulture, $"| kennel serve | {kennelMemory.Before:0.0} MB | {kennelMemory.After:0.0} MB | {kennelMemory.PerSessionKb:0.0} KB |");
                text.AppendLine(CultureInfo.InvariantCulture, $"| ts reference (node) | {tsMemory.Before:0.0} MB | {tsMemory.After:0.0} MB | {tsMemory.PerSessionKb:0.0} KB |");
            }
            Console.WriteLine(text.ToString());
            return 0;
        }
        finally
        {
            foreach (var child in new[] { ts, nodeFloor, kestrelFloor, sdkFloor })
            {
                if (child is { HasExited: false })
                {
                    child.Kill();
                    await child.WaitForExitAsync();
                }
                child?.Dispose();
            }
            await kennel.StopAsync();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static async Task<int> AnswerBytesAsync(Target target, string argsJson)
    {
        await using var client = await target.ConnectAsync();
        var result = await client.CallToolAsync("get-session", Args(argsJson));
        if (result.IsError == true)
        {
            throw new InvalidOperationException($"{target.Name} get-session failed");
        }
        return Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(result, McpJsonUtilities.DefaultOptions));
    }

    // One client for each target in turn, in slices of about 2 s, the order rotated each round; the results in target order.
    private static async Task<LoadResult[]> InterleavedAsync(Target[] targets, int seconds, string argsJson)
    {
        var rounds = Math.Max(1, seconds / 2);
        var slice = TimeSpan.FromSeconds((double)seconds / rounds);
        var slices = targets.Select(_ => new List<LoadResult>()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var turn = 0; turn < targets.Length; turn++)
            {
                var i = (round + turn) % targets.Length;
                slices[i].Add(await ClosedLoopAsync(targets[i], 1, slice, argsJson));
            }
        }
        return [.. slices.Select(LoadResult.Sum)];
    }

    // Closed loop: each client (its own connection and MCP session) calls get-session, then again, for the whole duration.
    // The server's CPU time over the same interval, divided by the calls, is what one call costs it.
    private static async Task<LoadResult> ClosedLoopAsync(Target target, int concurrency, TimeSpan duration, string argsJson)
    {
        var serverPid = target.Pid;
        var clients = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => RawMcpClient.ConnectAsync(target.Endpoint, target.Key, "get-session", argsJson)));
        var latencies = new List<double>[concurrency];
        var cpuBefore = ProcFs.CpuTime(serverPid).TotalSeconds;
        var clientCpuBefore = ProcFs.CpuTime(Environment.ProcessId).TotalSeconds;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select(async (client, i) =>
        {
            var mine = latencies[i] = new List<double>(4096);
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                await client.CallAsync();
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }));
        var elapsed = clock.Elapsed.TotalSeconds;
        var cpu = ProcFs.CpuTime(serverPid).TotalSeconds - cpuBefore;
        var clientCpu = ProcFs.CpuTime(Environment.ProcessId).TotalSeconds - clientCpuBefore;
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
        return new LoadResult([.. latencies.SelectMany(l => l)], elapsed, cpu, clientCpu);
    }

    private static async Task<(double Before, double After, double PerSessionKb)> MemoryPerSessionAsync(Target target, int count, Func<double> rss)
    {
        if (count == 0)
        {
            return (0, 0, 0);
        }
        await Task.Delay(TimeSpan.FromSeconds(2));
        var before = rss();
        var clients = new List<McpClient>(count);
        for (var i = 0; i < count; i++)
        {
            clients.Add(await target.ConnectAsync());
        }
        await Task.Delay(TimeSpan.FromSeconds(2));
        var after = rss();
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
        return (before, after, (after - before) * 1024 / count);
    }

    private static Process StartChild(string program, string[] arguments, string name, Dictionary<string, string> env)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in env)
        {
            info.Environment[key] = value;
        }
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                Console.Error.WriteLine($"{name}: {line}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitForPortAsync(int port, Process process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var socket = new TcpClient();
                await socket.ConnectAsync(System.Net.IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (!process.HasExited && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static Dictionary<string, object?> Args(string json) => McpBenchSession.Args(json);

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>An SDK client of the endpoint, with the key as its bearer token (none when null).</summary>
    public static async Task<McpClient> ConnectAsync(Uri endpoint, string? key, HttpClient http) =>
        await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = endpoint,
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = key is null ? null : new Dictionary<string, string> { ["Authorization"] = $"Bearer {key}" },
        }, http, ownsHttpClient: false));

    private sealed record Target(string Name, Uri Endpoint, string? Key, HttpClient Http, int Pid)
    {
        public Task<McpClient> ConnectAsync() => McpBench.ConnectAsync(Endpoint, Key, Http);
    }

    private sealed record LoadResult(List<double> Latencies, double Seconds, double ServerCpuSeconds, double ClientCpuSeconds)
    {
        /// <summary>Several runs of one target as one: all their calls over all their time.</summary>
        public static LoadResult Sum(List<LoadResult> parts) =>
            new([.. parts.SelectMany(p => p.Latencies)], parts.Sum(p => p.Seconds), parts.Sum(p => p.ServerCpuSeconds), parts.Sum(p => p.ClientCpuSeconds));

        public double PerSecond => Latencies.Count / Seconds;

        /// <summary>Server CPU per call, in microseconds.</summary>
        public double CpuPerCallUs => ServerCpuSeconds * 1e6 / Latencies.Count;

        /// <summary>The load generator's CPU per call, in microseconds.</summary>
        public double ClientCpuPerCallUs => ClientCpuSeconds * 1e6 / Latencies.Count;

        public double P(int percentile)
        {
            var sorted = Latencies.Order().ToList();
            var rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1;
            return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
        }
    }
}
