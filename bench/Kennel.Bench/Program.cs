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
// `oauth` the OAuth one (OAuthBench); `sandbox` the sandbox alone, without the control plane (SandboxBench); `agents` agent
// turns against a local provider (AgentBench).
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
if (args.Length > 0 && args[0] == "agents-growth")
{
    return await Kennel.Bench.Agents.GrowthBench.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "openclaw")
{
    return await Kennel.Bench.Agents.OpenClawBench.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "agents-usage")
{
    return await UsageBench.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "cron")
{
    return await Kennel.Bench.Cron.CronBench.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "egress")
{
    return await EgressBench.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "sandbox")
{
    return await SandboxBench.RunAsync(args[1..]);
}
var options = BenchOptions.Parse(args);
var otherBuilds = SessionsCompare.OtherBuilds(args);
if (otherBuilds.Count > 0)
{
    return await SessionsCompare.RunAsync(options, otherBuilds);
}

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
        await SessionRuns.RunOneAsync(http);
    }

    // Interleave the two so machine noise hits both alike.
    var raw = new List<double>();
    var kennel = new List<double>();
    for (var i = 0; i < options.LatencySamples; i++)
    {
        raw.Add(await RawBwrap.RunEchoAsync());
        kennel.Add(await SessionRuns.RunOneAsync(http));
    }

    var (completed, seconds) = await SessionRuns.SustainedAsync(http, options.Concurrency, TimeSpan.FromSeconds(options.ThroughputSeconds));
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
