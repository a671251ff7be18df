using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Kennel.Contracts;
using Kennel.Contracts.Daemons;
using Kennel.Contracts.Sessions;

namespace Kennel.Bench;

/// <summary>
/// The scheduler under many schedules: a real <c>kennel serve</c> (no worker, so the runs it starts stay queued and only the
/// scheduler is measured) gets N scheduled daemons, all due at one minute boundary. It reports the process's CPU use
/// while idle with and without the schedules loaded, and the lateness of each run (its session's createdAt minus its
/// scheduledFor) when they all fall due at once.
/// </summary>
internal static class ScheduleBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        int Get(string name, int fallback)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
        }
        var count = Get("--schedules", 10_000);
        var idleSeconds = Get("--idle-seconds", 30);
        var clients = Get("--clients", 8);
        var db = Array.IndexOf(args, "--database-url");
        var databaseUrl = db >= 0 && db + 1 < args.Length ? args[db + 1] : null;

        var dataDir = Directory.CreateTempSubdirectory("kennel-bench-schedules-").FullName;
        var port = ProcFs.FreePort();
        var env = new Dictionary<string, string>
        {
            ["KENNEL_LISTEN"] = $"127.0.0.1:{port}",
            ["KENNEL_DATA_DIR"] = dataDir,
            ["KENNEL_EMBEDDED_WORKER"] = "false",
            // No worker drains the queue, so the default workspace limit of 1000 queued sessions would refuse the rest.
            ["KENNEL_WORKSPACE_MAX_QUEUED_SESSIONS"] = "0",
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
            var emptyIdle = await CpuOverAsync(server, idleSeconds);

            // Time the first creations to pick a boundary far enough ahead for the rest and for the idle window.
            var created = Stopwatch.StartNew();
            const int probe = 200;
            var due = NextMinute(DateTimeOffset.UtcNow.AddHours(1)); // placeholder for the probe daemons
            await CreateAsync(http, 0, probe, clients, due);
            var perDaemon = created.Elapsed / probe;
            var boundary = NextMinute(DateTimeOffset.UtcNow + perDaemon * (count - probe) * 1.5 + TimeSpan.FromSeconds(idleSeconds + 20));
            for (var i = 0; i < probe; i++)
            {
                using var patched = await http.PatchAsync($"v1/daemons/{Name(i)}", JsonContent.Create(
                    new UpdateDaemonRequest { Trigger = Trigger(boundary) }, KennelJson.Default.UpdateDaemonRequest));
                patched.EnsureSuccessStatusCode();
            }
            await CreateAsync(http, probe, count, clients, boundary);
            var creation = created.Elapsed;
            if (DateTimeOffset.UtcNow + TimeSpan.FromSeconds(idleSeconds + 5) > boundary)
            {
                throw new InvalidOperationException("Creating the schedules took too long to leave an idle window before the boundary; rerun.");
            }

            await Task.Delay(TimeSpan.FromSeconds(3)); // the last creations' requests settle
            var loadedIdle = await CpuOverAsync(server, idleSeconds);

            var wait = boundary - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(2);
            await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
            var lateness = await LatenessAsync(http, count);

            Console.WriteLine(Report(count, databaseUrl, idleSeconds, emptyIdle, loadedIdle, creation, boundary, lateness, server.RssMegabytes()));
            return 0;
        }
        finally
        {
            await server.StopAsync();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static string Name(int i) => $"bench-{i:D5}";

    private static DaemonTriggerRequest Trigger(DateTimeOffset at) =>
        new() { Type = "schedule", Cron = $"{at.Minute} {at.Hour} * * *", Timezone = "UTC" };

    internal static DateTimeOffset NextMinute(DateTimeOffset after) =>
        new DateTimeOffset(after.Year, after.Month, after.Day, after.Hour, after.Minute, 0, TimeSpan.Zero).AddMinutes(1);

    private static async Task CreateAsync(HttpClient http, int from, int to, int clients, DateTimeOffset due)
    {
        var next = from - 1;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < to)
            {
                using var response = await http.PostAsJsonAsync("v1/daemons", new CreateDaemonRequest
                {
                    Name = Name(i),
                    Workload = new DaemonWorkload { Command = ["true"] },
                    Trigger = Trigger(due),
                }, KennelJson.Default.CreateDaemonRequest);
                response.EnsureSuccessStatusCode();
            }
        }));
    }

    /// <summary>Process CPU seconds per wall second over a quiet interval.</summary>
    internal static async Task<double> CpuOverAsync(ServeProcess server, int seconds)
    {
        var before = server.CpuTime();
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        return (server.CpuTime() - before).TotalSeconds / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Waits for every run to exist, then reads each session's lateness: createdAt − scheduledFor, in ms.</summary>
    private static async Task<List<double>> LatenessAsync(HttpClient http, int count)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var sessions = new List<Session>();
            string? cursor = null;
            do
            {
                var page = (await http.GetFromJsonAsync($"v1/sessions?limit=200{(cursor is null ? "" : $"&cursor={cursor}")}", KennelJson.Default.SessionPage))!;
                sessions.AddRange(page.Items);
                cursor = page.NextCursor;
            }
            while (cursor is not null);
            var runs = sessions.Where(s => s.Trigger == "schedule").ToList();
            if (runs.Count >= count || deadline.Elapsed > TimeSpan.FromMinutes(5))
            {
                if (runs.Count != count || runs.Select(s => s.Daemon).Distinct().Count() != count)
                {
                    throw new InvalidOperationException($"Expected {count} runs, one per daemon; found {runs.Count}.");
                }
                return [.. runs.Select(s => (s.CreatedAt - s.ScheduledFor!.Value).TotalMilliseconds)];
            }
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
    }

    private static string Report(int count, string? databaseUrl, int idleSeconds, double emptyIdle, double loadedIdle, TimeSpan creation,
        DateTimeOffset boundary, List<double> lateness, double rssMb)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Machine: {Environment.ProcessorCount} cores, {Environment.MachineName}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, store {(databaseUrl is null ? "SQLite" : "PostgreSQL")}, no worker");
        text.AppendLine();
        text.AppendLine("| measure | value |");
        text.AppendLine("|---|---|");
        text.AppendLine(CultureInfo.InvariantCulture, $"| idle CPU, no schedules ({idleSeconds} s) | {emptyIdle * 100:0.00} % of one core |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| idle CPU, {count} active schedules ({idleSeconds} s) | {loadedIdle * 100:0.00} % of one core |");
        foreach (var p in new[] { 50, 99 })
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| lateness p{p}, {count} runs due at {boundary:HH:mm:ss} | {Kennel.Bench.Report.Percentile(lateness, p):0} ms |");
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"| lateness min / max | {lateness.Min():0} / {lateness.Max():0} ms |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| creating the {count} daemons over REST | {creation.TotalSeconds:0.0} s |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| control plane RSS after the runs | {rssMb:0.0} MB |");
        return text.ToString();
    }
}
