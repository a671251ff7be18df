using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Dapper;
using Kennel.Agents.Models;
using Kennel.Agents.Providers;
using Kennel.Contracts.ApiKeys;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Usage;
using Kennel.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.Bench;

/// <summary>
/// <c>scripts/bench.sh agents-usage [--calls N (100000)] [--samples N (200)] [--database-url URL]</c>: the usage ledger
/// holding N model calls of one workspace over the last 30 days (5 models, 4 agents, 5,000 conversations; and a
/// neighbour workspace with N/5 calls of its own), then <c>usage_cost</c> and <c>sessions_usage</c> for the month
/// timed over the agent endpoint (a tools/call POST, its JSON answer read whole) and in process (the service call); and
/// beside the service, sample by sample, the same sums read from <c>model_calls</c> alone (how usage_cost answered before
/// the daily roll-ups of migration 0018).
/// </summary>
internal static class UsageBench
{
    private static readonly ModelInfo[] Models =
    [
        new("openai", "gpt-5-mini", 400_000, true, new ModelPrices(0.25m, 2m, 0.025m, 0m)),
        new("openai", "gpt-4.1", 1_000_000, false, new ModelPrices(2m, 8m, 0.5m, 0m)),
        new("anthropic", "claude-sonnet-4-5", 200_000, true, new ModelPrices(3m, 15m, 0.3m, 3.75m)),
        new("anthropic", "claude-haiku-4-5", 200_000, true, new ModelPrices(1m, 5m, 0.1m, 1.25m)),
        new("local", "qwen3", 32_768, false, ModelPrices.Unknown),
    ];

    private static readonly string[] Agents = ["main", "helper", "coder", "reviewer"];

    public static async Task<int> RunAsync(string[] args)
    {
        int Get(string name, int fallback)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
        }
        var calls = Get("--calls", 100_000);
        var samples = Get("--samples", 200);
        var db = Array.IndexOf(args, "--database-url");
        var databaseUrl = db >= 0 && db + 1 < args.Length ? args[db + 1] : null;

        await using var server = await TestServer.StartAsync(databaseUrl is null ? TestStore.Sqlite : TestStore.Postgres,
            s => s with { EmbeddedWorker = false }, databaseUrl: databaseUrl);
        using var admin = server.Client();
        const string workspace = "bench-usage";
        var key = (await admin.CreateApiKeyAsync(workspace, Scopes.Read)).Key;
        await admin.CreateApiKeyAsync("bench-neighbour", Scopes.Read);
        var id = await WorkspaceIdAsync(server, workspace);
        var fill = Stopwatch.StartNew();
        await FillAsync(server, id, calls);
        await FillAsync(server, await WorkspaceIdAsync(server, "bench-neighbour"), calls / 5);
        fill.Stop();

        using var http = server.Client(key);
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var service = server.Server.Services.GetRequiredService<UsageService>();
        var caller = new Caller(id, workspace, new HashSet<string> { Scopes.Read }, "bench");

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Machine: {Environment.ProcessorCount} cores, {Environment.MachineName}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {LoadAverage()}, " +
            $"store {(databaseUrl is null ? "SQLite" : "PostgreSQL")}; {calls:N0} calls in the workspace (+{calls / 5:N0} in a neighbour), " +
            $"filled in {fill.Elapsed.TotalSeconds:0.0} s; {samples} samples each, one client, after 20 warm-up calls");
        text.AppendLine();
        text.AppendLine("| call (period month) | over /w/{workspace}/mcp p50 | p99 | service only p50 | p99 | service CPU per call |");
        text.AppendLine("|---|---|---|---|---|---|");
        var ledgerAlone = new StringBuilder();
        var store = server.Server.Services.GetRequiredService<UsageStore>();
        var (start, end) = service.Range("month", null, null);
        foreach (var groupBy in new[] { "day", "model", "agent" })
        {
            var mcp = await TimeAsync(samples, () => CallAsync(http, workspace, "usage_cost", $$"""{"period":"month","groupBy":"{{groupBy}}"}"""));
            var direct = await TimeWithCpuAsync(samples, () => service.CostAsync(caller, "month", null, null, groupBy, CancellationToken.None));
            text.AppendLine(Row($"usage_cost groupBy {groupBy}", mcp, direct));
            var (rolled, alone) = await TimeAlternatingAsync(samples,
                () => store.SumAsync(id, start.ToUnixTimeMilliseconds(), end.ToUnixTimeMilliseconds(), groupBy, CancellationToken.None),
                () => store.SumCallsAsync(id, start.ToUnixTimeMilliseconds(), end.ToUnixTimeMilliseconds(), groupBy, CancellationToken.None));
            ledgerAlone.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| by {groupBy} | {Report.Percentile(rolled, 50):0.0} ms | {Report.Percentile(rolled, 99):0.0} ms | {Report.Percentile(alone, 50):0.0} ms | " +
                $"{Report.Percentile(alone, 99):0.0} ms | {Report.Percentile(alone, 50) / Report.Percentile(rolled, 50):0.0}× |"));
        }
        var sessions = await TimeAsync(samples, () => CallAsync(http, workspace, "sessions_usage", """{"period":"month"}"""));
        var sessionsDirect = await TimeWithCpuAsync(samples, () => service.ConversationsAsync(caller, "month", null, null, null, null, CancellationToken.None));
        text.AppendLine(Row("sessions_usage (top 50 of 5,000)", sessions, sessionsDirect));
        text.AppendLine();
        text.AppendLine("The store's read for usage_cost, month, alternating sample by sample: roll-ups for the whole days with model_calls for today, " +
            "against model_calls alone (before migration 0018)");
        text.AppendLine();
        text.AppendLine("| usage_cost | roll-ups p50 | p99 | model_calls alone p50 | p99 | ratio of p50s |");
        text.AppendLine("|---|---|---|---|---|---|");
        text.Append(ledgerAlone);
        Console.Out.Write(text.ToString());
        return 0;
    }

    private static string Row(string name, List<double> mcp, (List<double> Times, double CpuMs) direct) => string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {Report.Percentile(mcp, 50):0.0} ms | {Report.Percentile(mcp, 99):0.0} ms | {Report.Percentile(direct.Times, 50):0.0} ms | " +
        $"{Report.Percentile(direct.Times, 99):0.0} ms | {direct.CpuMs:0.0} ms |");

    /// <summary>Wall times, and the process's CPU time per call (what the machine's load does not inflate).</summary>
    private static async Task<(List<double> Times, double CpuMs)> TimeWithCpuAsync<T>(int samples, Func<Task<T>> call)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var times = await TimeAsync(samples, call);
        return (times, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / (samples + 20));
    }

    private static async Task<List<double>> TimeAsync<T>(int samples, Func<Task<T>> call)
    {
        for (var i = 0; i < 20; i++)
        {
            await call();
        }
        var times = new List<double>(samples);
        for (var i = 0; i < samples; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await call();
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return times;
    }

    /// <summary>Two calls timed in turn, sample by sample, so the machine's load falls on both alike.</summary>
    private static async Task<(List<double> First, List<double> Second)> TimeAlternatingAsync<T>(int samples, Func<Task<T>> first, Func<Task<T>> second)
    {
        for (var i = 0; i < 20; i++)
        {
            await first();
            await second();
        }
        var (a, b) = (new List<double>(samples), new List<double>(samples));
        for (var i = 0; i < samples; i++)
        {
            foreach (var (call, times) in i % 2 == 0 ? new[] { (first, a), (second, b) } : [(second, b), (first, a)])
            {
                var started = Stopwatch.GetTimestamp();
                await call();
                times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
        return (a, b);
    }

    private static async Task<string> CallAsync(HttpClient http, string workspace, string tool, string arguments)
    {
        using var content = new StringContent($$$"""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"{{{tool}}}","arguments":{{{arguments}}}}}""",
            Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri($"/w/{workspace}/mcp", UriKind.Relative), content);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode || body.Contains("\"isError\":true", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{tool} failed: {(int)response.StatusCode} {body}");
        }
        return body;
    }

    private static Task<string> WorkspaceIdAsync(TestServer server, string workspace) =>
        server.Server.Database.ReadAsync(c => c.QuerySingleAsync<string>("SELECT id FROM workspaces WHERE name = @workspace", new { workspace }),
            CancellationToken.None);

    /// <summary>Rows through the ledger's own insert, 5,000 to a transaction, spread over the last 30 days.</summary>
    private static async Task FillAsync(TestServer server, string workspaceId, int calls)
    {
        var ledger = server.Server.Services.GetRequiredService<UsageLedger>();
        var random = new Random(42);
        var now = DateTimeOffset.UtcNow;
        for (var done = 0; done < calls; done += 5_000)
        {
            var batch = Math.Min(5_000, calls - done);
            await server.Server.Database.WriteAsync(async (connection, transaction) =>
            {
                for (var i = 0; i < batch; i++)
                {
                    var call = new ModelCall(workspaceId, Agents[random.Next(Agents.Length)], Models[random.Next(Models.Length)],
                        new TokenUsage(random.Next(100, 20_000), random.Next(10, 2_000), random.Next(0, 10_000), random.Next(0, 1_000)),
                        random.Next(50) == 0 ? ModelCallOutcome.Error : ModelCallOutcome.Ok, TimeSpan.FromMilliseconds(random.Next(200, 5_000)),
                        now.AddMilliseconds(-random.NextInt64(30L * 86_400_000)))
                    {
                        ConversationId = $"cnv_{random.Next(5_000):D5}",
                    };
                    await ledger.InsertAsync(connection, transaction, call, CancellationToken.None);
                }
            }, CancellationToken.None);
        }
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
