using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Kennel.Contracts;
using Kennel.Contracts.Conversations;
using Kennel.Testing;
using Microsoft.AspNetCore.Http;

namespace Kennel.Bench;

/// <summary>
/// Agent turns through a real <c>kennel serve</c> against a local OpenAI-compatible provider that answers at once: the
/// wall time of <c>POST /v1/conversations/{key}/messages</c> until the answer, minus the time the provider spent on its
/// requests, is Kennel's own time per turn (its HTTP edge, the store, the run's claim, each step's commit, the provider
/// SDK). Two kinds: a turn without tools, and one where the model calls <c>exec</c> once (which adds a sandbox of <c>true</c>).
/// </summary>
internal static class AgentBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var index = Array.IndexOf(args, "--samples");
        var samples = index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : 200;
        var db = Array.IndexOf(args, "--database-url");
        var databaseUrl = db >= 0 && db + 1 < args.Length ? args[db + 1] : null;

        await using var model = await ScriptedProvider.StartAsync();
        var providerMs = 0.0;
        var gate = new Lock();
        Func<HttpContext, Task> Reply((string?, string)[] events) => async context =>
        {
            var clock = Stopwatch.StartNew();
            context.Response.ContentType = "text/event-stream";
            var body = new StringBuilder();
            foreach (var (_, data) in events)
            {
                body.Append("data: ").Append(data).Append("\n\n");
            }
            await context.Response.WriteAsync(body.ToString());
            await context.Response.CompleteAsync();
            lock (gate)
            {
                providerMs += clock.Elapsed.TotalMilliseconds;
            }
        };

        var dataDir = Directory.CreateTempSubdirectory("kennel-bench-agents-").FullName;
        var port = ProcFs.FreePort();
        var env = new Dictionary<string, string>
        {
            ["KENNEL_LISTEN"] = $"127.0.0.1:{port}",
            ["KENNEL_DATA_DIR"] = dataDir,
            ["OPENAI_BASE_URL"] = new Uri(model.Url, "v1").ToString(),
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
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            var turn = 0;

            async Task<double> TurnAsync(bool exec)
            {
                if (exec)
                {
                    model.Then(Reply(ModelScript.Exec("call_1", "true")));
                }
                model.Then(Reply(ModelScript.Answer("Hello!")));
                double before;
                lock (gate)
                {
                    before = providerMs;
                }
                var clock = Stopwatch.StartNew();
                using var response = await http.PostAsJsonAsync($"v1/conversations/bench-{turn++}/messages?waitMs=60000",
                    new SendMessageRequest { Message = "say hello" }, KennelJson.Default.SendMessageRequest);
                var run = await response.Content.ReadFromJsonAsync(KennelJson.Default.Run);
                var wall = clock.Elapsed.TotalMilliseconds;
                if (run?.Status != RunStatus.Succeeded)
                {
                    throw new InvalidOperationException($"A bench turn did not succeed: {run?.Status} {run?.Error?.Message}");
                }
                lock (gate)
                {
                    return wall - (providerMs - before);
                }
            }

            for (var i = 0; i < 20; i++)
            {
                await TurnAsync(exec: false);
                await TurnAsync(exec: true);
            }
            var plain = new List<double>();
            var withExec = new List<double>();
            for (var i = 0; i < samples; i++)
            {
                plain.Add(await TurnAsync(exec: false));
                withExec.Add(await TurnAsync(exec: true));
            }
            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"Machine: {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}, store {(databaseUrl is null ? "SQLite" : "PostgreSQL")}, n={samples} each");
            text.AppendLine();
            text.AppendLine("| Kennel's own time per turn (ms, wall time minus the provider's) | p50 | p90 | p99 |");
            text.AppendLine("|---|---|---|---|");
            foreach (var (name, values) in new[] { ("no tools", plain), ("one exec (`true` in a sandbox)", withExec) })
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {name} | {Report.Percentile(values, 50):0.00} | {Report.Percentile(values, 90):0.00} | {Report.Percentile(values, 99):0.00} |");
            }
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"- control plane RSS after {turn} turns: {server.RssMegabytes():0.0} MB");
            Console.WriteLine(text);
            return 0;
        }
        finally
        {
            await server.StopAsync();
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
