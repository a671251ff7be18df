using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kennel.Bench.Agents;

/// <summary>
/// OpenClaw, the system behind seed 004, as the reference in the agent benchmark: its gateway (installed from npm by
/// <c>scripts/bench.sh</c>) runs on loopback with a state directory of its own, its one model the same
/// <see cref="LocalProvider"/> Kennel uses. A turn is a POST to its OpenAI-compatible <c>/v1/chat/completions</c> with a
/// fresh <c>x-openclaw-session-key</c>; <c>sessions.list</c> goes over its own gateway client (<c>driver.mjs</c>).
/// </summary>
internal sealed class OpenClawReference : IAsyncDisposable
{
    private readonly Process process;
    private readonly string stateDir;
    private readonly string token;
    private readonly int port;
    private readonly string node;
    private readonly string driver;
    private readonly HttpClient http;

    private OpenClawReference(Process process, string stateDir, string token, int port, string node, string driver)
    {
        this.process = process;
        this.stateDir = stateDir;
        this.token = token;
        this.port = port;
        this.node = node;
        this.driver = driver;
        http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>
    /// Starts the gateway from <c>BENCH_OPENCLAW</c> (its <c>openclaw.mjs</c>) on <c>BENCH_OPENCLAW_NODE</c> (Node 24), or
    /// returns null with the reason when they are not set.
    /// </summary>
    public static async Task<(OpenClawReference? Reference, string? Missing)> StartAsync(LocalProvider provider)
    {
        var entry = Environment.GetEnvironmentVariable("BENCH_OPENCLAW");
        var node = Environment.GetEnvironmentVariable("BENCH_OPENCLAW_NODE");
        var driver = Environment.GetEnvironmentVariable("BENCH_OPENCLAW_DRIVER");
        if (entry is null || node is null || driver is null)
        {
            return (null, "BENCH_OPENCLAW, BENCH_OPENCLAW_NODE and BENCH_OPENCLAW_DRIVER are not set; run it through scripts/bench.sh");
        }
        var stateDir = Directory.CreateTempSubdirectory("kennel-bench-openclaw-").FullName;
        var port = ProcFs.FreePort();
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var config = Path.Combine(stateDir, "openclaw.json");
        await File.WriteAllTextAsync(config, Config(port, token, provider.Url).ToJsonString());
        var info = new ProcessStartInfo(node) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { entry, "gateway", "run", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["OPENCLAW_STATE_DIR"] = stateDir;
        info.Environment["OPENCLAW_CONFIG_PATH"] = config;
        info.Environment["HOME"] = Directory.CreateDirectory(Path.Combine(stateDir, "home")).FullName;
        info.Environment["NO_COLOR"] = "1";
        info.Environment["PATH"] = $"{Path.GetDirectoryName(node)}:{Environment.GetEnvironmentVariable("PATH")}";
        var process = Process.Start(info)!;
        var ready = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            // Its log colours each part of a line unless told not to; the escapes are removed anyway.
            var line = e.Data is null ? "" : System.Text.RegularExpressions.Regex.Replace(e.Data, "\u001b\\[[0-9;]*m", "").TrimEnd();
            if (line.Contains("[gateway]", StringComparison.Ordinal) && line.EndsWith(" ready", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var reference = new OpenClawReference(process, stateDir, token, port, node, driver);
        if (await Task.WhenAny(ready.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(3))) != ready.Task)
        {
            await reference.DisposeAsync();
            return (null, "the OpenClaw gateway did not report ready within 3 minutes");
        }
        return (reference, null);
    }

    /// <summary>RSS of the gateway and every process it started (its spawn broker and SQLite workers), in MiB.</summary>
    public double RssMegabytes() => ProcFs.TreeRssMegabytes(process.Id);

    /// <summary>One "say hello" turn in a conversation of its own; returns the client's time in ms.</summary>
    public async Task<double> TurnAsync(string sessionKey, string message)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "openclaw", messages = new[] { new { role = "user", content = message } } }),
        };
        request.Headers.Add("x-openclaw-session-key", sessionKey);
        var started = Stopwatch.GetTimestamp();
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (!response.IsSuccessStatusCode || !body.Contains("Hello!", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"OpenClaw turn failed: {(int)response.StatusCode} {body[..Math.Min(300, body.Length)]}");
        }
        return elapsed;
    }

    /// <summary>Creates sessions through <c>sessions.create</c> until the gateway holds <paramref name="count"/> in all.</summary>
    public async Task CreateSessionsAsync(int count, int existing, string prefix)
    {
        if (count > existing)
        {
            await DriverAsync("create", (count - existing).ToString(System.Globalization.CultureInfo.InvariantCulture), "8", prefix);
        }
    }

    /// <summary><c>sessions.list</c> with a page of 50, <paramref name="samples"/> times on one connection: the count and each time in ms.</summary>
    public async Task<(int Sessions, IReadOnlyList<double> Ms)> ListSessionsAsync(int samples)
    {
        using var result = JsonDocument.Parse(await DriverAsync("list", samples.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return (result.RootElement.GetProperty("sessions").GetInt32(), [.. result.RootElement.GetProperty("ms").EnumerateArray().Select(ms => ms.GetDouble())]);
    }

    private async Task<string> DriverAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo(node) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(driver);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["OPENCLAW_URL"] = $"ws://127.0.0.1:{port}";
        info.Environment["OPENCLAW_TOKEN"] = token;
        info.Environment["OPENCLAW_STATE_DIR"] = stateDir;
        info.Environment["HOME"] = Path.Combine(stateDir, "home");
        using var child = Process.Start(info)!;
        var output = child.StandardOutput.ReadToEndAsync();
        var errors = child.StandardError.ReadToEndAsync();
        await child.WaitForExitAsync();
        if (child.ExitCode != 0)
        {
            throw new InvalidOperationException($"driver.mjs {string.Join(' ', arguments)} failed: {await errors}");
        }
        return (await output).Trim().Split('\n')[^1];
    }

    private static JsonObject Config(int port, string token, Uri provider) => new()
    {
        ["gateway"] = new JsonObject
        {
            ["mode"] = "local",
            ["port"] = port,
            ["bind"] = "loopback",
            ["auth"] = new JsonObject { ["mode"] = "token", ["token"] = token },
            ["http"] = new JsonObject { ["endpoints"] = new JsonObject { ["chatCompletions"] = new JsonObject { ["enabled"] = true } } },
        },
        ["models"] = new JsonObject
        {
            ["providers"] = new JsonObject
            {
                ["local"] = new JsonObject
                {
                    ["baseUrl"] = provider.ToString(),
                    ["apiKey"] = "sk-local",
                    ["api"] = "openai-completions",
                    ["models"] = new JsonArray(new JsonObject
                    {
                        ["id"] = "stub",
                        ["name"] = "stub",
                        ["contextWindow"] = 128000,
                        ["maxTokens"] = 4096,
                        ["cost"] = new JsonObject { ["input"] = 0, ["output"] = 0, ["cacheRead"] = 0, ["cacheWrite"] = 0 },
                    }),
                },
            },
        },
        ["agents"] = new JsonObject { ["defaults"] = new JsonObject { ["model"] = new JsonObject { ["primary"] = "local/stub" } } },
    };

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        foreach (var pid in ProcFs.Tree(process.Id).Reverse())
        {
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (ArgumentException)
            {
                // already gone
            }
        }
        await process.WaitForExitAsync();
        process.Dispose();
        try
        {
            Directory.Delete(stateDir, recursive: true);
        }
        catch (IOException)
        {
            // a worker still closing a file; the temp dir is swept later
        }
    }
}
