using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Kennel.Bench.Agents;
using Kennel.Contracts;
using Kennel.Contracts.Cron;

namespace Kennel.Bench.Cron;

/// <summary>
/// Cron jobs at scale: a real <c>kennel serve</c> whose installation provider is <see cref="LocalProvider"/>, answering at
/// once, gets N enabled jobs, of which D are <c>at</c> jobs all due at one minute boundary and the rest due far in the
/// future. It reports the process's CPU use while idle, without jobs and with them loaded, and the lateness of each of
/// the D runs: when the scheduler fired it (the cron run's createdAt minus its scheduledFor) and when its agent turn's
/// answer was recorded (endedAt minus scheduledFor).
/// </summary>
internal static class CronBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        int Get(string name, int fallback)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
        }
        var count = Get("--jobs", 10_000);
        var dueCount = Get("--due", 1_000);
        var idleSeconds = Get("--idle-seconds", 30);
        var clients = Get("--clients", 8);
        var db = Array.IndexOf(args, "--database-url");
        var databaseUrl = db >= 0 && db + 1 < args.Length ? args[db + 1] : null;

        await using var provider = await LocalProvider.StartAsync(TimeSpan.Zero);
        var dataDir = Directory.CreateTempSubdirectory("kennel-bench-cron-").FullName;
        var port = ProcFs.FreePort();
        var env = new Dictionary<string, string>
        {
            ["KENNEL_LISTEN"] = $"127.0.0.1:{port}",
            ["KENNEL_DATA_DIR"] = dataDir,
            ["KENNEL_EMBEDDED_WORKER"] = "false",
            ["OPENAI_BASE_URL"] = provider.Url.ToString(),
            ["OPENAI_API_KEY"] = "sk-local",
        };
        if (databaseUrl is not null)
        {
            env["KENNEL_DATABASE_URL"] = databaseUrl;
        }
        using var server = ServeProcess.Start(env);
        try
        {
            await server.WaitUntilListeningAsync();
            var key = (await File.ReadAllTextAsync(Path.Combine(dataDir, "admin-api-key"))).Trim();
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMinutes(5) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

            await Task.Delay(TimeSpan.FromSeconds(5)); // start-up settles
            var emptyIdle = await ScheduleBench.CpuOverAsync(server, idleSeconds);

            // The jobs that are not due: a yearly cron each, so they are loaded and enabled but quiet.
            var created = Stopwatch.StartNew();
            await CreateAsync(http, 0, count - dueCount, clients, _ => new CronSchedule { Kind = "cron", Expr = "0 3 1 1 *" });
            var perJob = created.Elapsed / Math.Max(1, count - dueCount);
            var boundary = ScheduleBench.NextMinute(DateTimeOffset.UtcNow + perJob * dueCount * 1.5 + TimeSpan.FromSeconds(idleSeconds + 20));
            await CreateAsync(http, count - dueCount, count, clients, _ => new CronSchedule { Kind = "at", At = boundary.ToString("O", CultureInfo.InvariantCulture) });
            var creation = created.Elapsed;
            if (DateTimeOffset.UtcNow + TimeSpan.FromSeconds(idleSeconds + 5) > boundary)
            {
                throw new InvalidOperationException("Creating the jobs took too long to leave an idle window before the boundary; rerun.");
            }

            await Task.Delay(TimeSpan.FromSeconds(3)); // the last creations' requests settle
            var loadedIdle = await ScheduleBench.CpuOverAsync(server, idleSeconds);

            var wait = boundary - DateTimeOffset.UtcNow;
            await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
            var runs = await RunsAsync(http, dueCount);
            var fired = runs.Select(r => (r.CreatedAt - r.ScheduledFor!.Value).TotalMilliseconds).ToList();
            var answered = runs.Select(r => (r.EndedAt!.Value - r.ScheduledFor!.Value).TotalMilliseconds).ToList();

            Console.WriteLine(Report(count, dueCount, databaseUrl, idleSeconds, emptyIdle, loadedIdle, creation, boundary, fired, answered,
                server.RssMegabytes()));
            return 0;
        }
        finally
        {
            await server.StopAsync();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static async Task CreateAsync(HttpClient http, int from, int to, int clients, Func<int, CronSchedule> schedule)
    {
        var next = from - 1;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < to)
            {
                using var response = await http.PostAsJsonAsync("v1/cron", new CreateCronJobRequest
                {
                    Name = $"bench-{i:D5}",
                    Agent = "main",
                    Schedule = schedule(i),
                    Payload = new CronPayload { Kind = "agentTurn", Message = $"job {i}: say ok" },
                }, KennelJson.Default.CreateCronJobRequest);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"Creating job {i} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
        }));
    }

    /// <summary>Waits for every due run to have ended, then returns them; each job must have run once, and succeeded.</summary>
    private static async Task<List<CronRun>> RunsAsync(HttpClient http, int count)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var runs = new List<CronRun>();
            string? cursor = null;
            do
            {
                var page = (await http.GetFromJsonAsync($"v1/cron/runs?limit=200{(cursor is null ? "" : $"&cursor={cursor}")}", KennelJson.Default.CronRunPage))!;
                runs.AddRange(page.Items);
                cursor = page.NextCursor;
            }
            while (cursor is not null);
            if (runs.Count(r => r.EndedAt is not null) >= count || deadline.Elapsed > TimeSpan.FromMinutes(10))
            {
                if (runs.Count != count || runs.Select(r => r.JobId).Distinct().Count() != count || runs.Any(r => r.Status != "succeeded"))
                {
                    throw new InvalidOperationException($"Expected {count} succeeded runs, one per job; found {runs.Count}: " +
                        string.Join(", ", runs.GroupBy(r => r.Status).Select(g => $"{g.Count()} {g.Key}")));
                }
                return runs;
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    private static string Report(int count, int due, string? databaseUrl, int idleSeconds, double emptyIdle, double loadedIdle, TimeSpan creation,
        DateTimeOffset boundary, List<double> fired, List<double> answered, double rssMb)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Machine: {Environment.ProcessorCount} cores, {Environment.MachineName}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, store {(databaseUrl is null ? "SQLite" : "PostgreSQL")}, provider answering at once");
        text.AppendLine();
        text.AppendLine("| measure | value |");
        text.AppendLine("|---|---|");
        text.AppendLine(CultureInfo.InvariantCulture, $"| idle CPU, no jobs ({idleSeconds} s) | {emptyIdle * 100:0.00} % of one core |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| idle CPU, {count} enabled jobs ({idleSeconds} s) | {loadedIdle * 100:0.00} % of one core |");
        foreach (var p in new[] { 50, 99 })
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| fired late p{p}, {due} runs due at {boundary:HH:mm:ss} | {Kennel.Bench.Report.Percentile(fired, p):0} ms |");
        }
        foreach (var p in new[] { 50, 99 })
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| answered p{p} (agent turn recorded, from the due time) | {Kennel.Bench.Report.Percentile(answered, p):0} ms |");
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"| fired late min / max | {fired.Min():0} / {fired.Max():0} ms |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| creating the {count} jobs over REST | {creation.TotalSeconds:0.0} s |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| control plane RSS after the runs | {rssMb:0.0} MB |");
        return text.ToString();
    }
}
