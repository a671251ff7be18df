using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Kennel.Bench;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;

// Measures, in one run on one machine: raw bwrap start-to-exit of `echo hello`, Kennel's create-to-exit latency of the
// same workload through the REST API, sustained sessions per second, and the control plane's idle RSS.
// `mcp` as the first argument runs the MCP benchmark instead (McpBench); `schedules` the scheduler's (ScheduleBench);
// `oauth` the OAuth one (OAuthBench); `sandbox` the sandbox alone, without the control plane (SandboxBench).
if (args.Length > 0 && args[0] == "mcp")
{
    return await McpBench.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "schedules")
{
    return await ScheduleBench.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "oauth")
{
    return await OAuthBench.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "agents")
{
    return await Kennel.Bench.Agents.AgentsBench.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "openclaw")
{
    return await Kennel.Bench.Agents.OpenClawBench.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "sandbox")
{
    return await SandboxBench.RunAsync(args[1..]);
}
var options = BenchOptions.Parse(args);
var dataDir = Directory.CreateTempSubdirectory("kennel-bench-").FullName;
var port = ProcFs.FreePort();
var env = new Dictionary<string, string>
{
    ["KENNEL_LISTEN"] = $"127.0.0.1:{port}",
    ["KENNEL_DATA_DIR"] = dataDir,
};
if (options.DatabaseUrl is { } databaseUrl)
{
    env["KENNEL_DATABASE_URL"] = databaseUrl;
}
using var server = ServeProcess.Start(env);
try
{
    await server.WaitUntilListeningAsync();
    var key = (await File.ReadAllTextAsync(Path.Combine(dataDir, "admin-api-key"))).Trim();
    using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

    await Task.Delay(TimeSpan.FromSeconds(options.IdleSeconds));
    var idleRssMb = server.RssMegabytes();

    // Warm both paths so JIT and page cache do not count against either.
    for (var i = 0; i < 20; i++)
    {
        await RawBwrap.RunEchoAsync();
        await RunSessionAsync(http);
    }

    // Interleave the two so machine noise hits both alike.
    var raw = new List<double>();
    var kennel = new List<double>();
    for (var i = 0; i < options.LatencySamples; i++)
    {
        raw.Add(await RawBwrap.RunEchoAsync());
        kennel.Add(await RunSessionAsync(http));
    }

    var (completed, seconds) = await SustainedAsync(http, options.Concurrency, TimeSpan.FromSeconds(options.ThroughputSeconds));
    var busyRssMb = server.RssMegabytes();

    var report = new Report(options, idleRssMb, busyRssMb, raw, kennel, completed, seconds);
    Console.WriteLine(report.ToMarkdown());
    return 0;
}
finally
{
    await server.StopAsync();
    Directory.Delete(dataDir, recursive: true);
}

static async Task<double> RunSessionAsync(HttpClient http)
{
    var started = Stopwatch.GetTimestamp();
    using var created = await http.PostAsJsonAsync("v1/sessions", new CreateSessionRequest { Command = ["echo", "hello"] },
        KennelJson.Default.CreateSessionRequest);
    created.EnsureSuccessStatusCode();
    var session = (await created.Content.ReadFromJsonAsync(KennelJson.Default.Session))!;
    var done = (await http.GetFromJsonAsync($"v1/sessions/{session.Id}/wait?timeoutMs=60000", KennelJson.Default.Session))!;
    var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    if (done.Status != SessionStatus.Succeeded || done.Stdout != "hello\n")
    {
        throw new InvalidOperationException($"Session {done.Id} ended {done.Status.ToWire()} with '{done.Stdout}' {done.Error?.Message}");
    }
    return elapsed;
}

// Closed loop: each client creates a session and waits for it, then the next, for the whole duration.
static async Task<(int Completed, double Seconds)> SustainedAsync(HttpClient http, int concurrency, TimeSpan duration)
{
    var completed = 0;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        while (clock.Elapsed < duration)
        {
            await RunSessionAsync(http);
            Interlocked.Increment(ref completed);
        }
    }));
    return (completed, clock.Elapsed.TotalSeconds);
}


namespace Kennel.Bench
{
    internal sealed record BenchOptions(int LatencySamples, int Concurrency, int ThroughputSeconds, int IdleSeconds, string? DatabaseUrl)
    {
        public static BenchOptions Parse(string[] args)
        {
            int Get(string name, int fallback)
            {
                var index = Array.IndexOf(args, name);
                return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
            }
            var db = Array.IndexOf(args, "--database-url");
            return new BenchOptions(Get("--samples", 200), Get("--concurrency", 16), Get("--seconds", 10), Get("--idle-seconds", 5),
                db >= 0 && db + 1 < args.Length ? args[db + 1] : null);
        }
    }
}
