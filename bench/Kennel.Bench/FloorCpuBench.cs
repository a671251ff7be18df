using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Kennel.Bench;

/// <summary>
/// <c>mcp floor-cpu --builds NAME=DLL,NAME=DLL [--calls N] [--rounds R]</c>: the server CPU per <c>tools/call</c> of
/// the "Kennel.Mcp + SDK, no auth/db" floor (<see cref="FloorServer.RunSdkAsync"/>) of several builds of Kennel.Bench,
/// each in its own process, driven one call at a time by <see cref="RawMcpClient"/>, the builds alternated round by
/// round so that the machine's other work hits them alike. Each server runs without the thread pool's spinning
/// (<c>DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0</c>), so its CPU counts its work, not its waiting for the next call.
/// </summary>
internal static class FloorCpuBench
{
    public const string Argument = "floor-cpu";

    public static async Task<int> RunAsync(string[] args)
    {
        var builds = Option(args, "--builds", "this=" + typeof(FloorCpuBench).Assembly.Location).Split(',')
            .Select(b => (Name: b[..b.IndexOf('=', StringComparison.Ordinal)], Dll: b[(b.IndexOf('=', StringComparison.Ordinal) + 1)..])).ToArray();
        var calls = int.Parse(Option(args, "--calls", "5000"), CultureInfo.InvariantCulture);
        var rounds = int.Parse(Option(args, "--rounds", "5"), CultureInfo.InvariantCulture);
        var dir = Directory.CreateTempSubdirectory("kennel-floorcpu-").FullName;
        var result = Path.Combine(dir, "result.json");
        await File.WriteAllTextAsync(result, ReferenceResult);
        var servers = new List<(string Name, Process Process, RawMcpClient Client, Uri Stats, List<double> Micros, List<double> Bytes, List<double> Items)>();
        using var http = new HttpClient();
        try
        {
            foreach (var (name, dll) in builds)
            {
                var port = ProcFs.FreePort();
                var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
                info.ArgumentList.Add(dll);
                info.ArgumentList.Add("mcp");
                info.ArgumentList.Add(FloorServer.SdkArgument);
                info.Environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
                info.Environment["REFERENCE_RESULT"] = result;
                info.Environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0";
                var process = Process.Start(info)!;
                process.OutputDataReceived += (_, _) => { };
                process.ErrorDataReceived += (_, _) => { };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                await WaitAsync(port);
                var client = await RawMcpClient.ConnectAsync(new Uri($"http://127.0.0.1:{port}/mcp"), "k", "get-session", """{"id":"s"}""");
                for (var i = 0; i < calls; i++)
                {
                    await client.CallAsync();
                }
                servers.Add((name, process, client, new Uri($"http://127.0.0.1:{port}/stats"), [], [], []));
            }
            for (var round = 0; round < rounds; round++)
            {
                foreach (var server in servers)
                {
                    var statsBefore = await StatsAsync(http, server.Stats);
                    var before = ProcFs.CpuTime(server.Process.Id);
                    for (var i = 0; i < calls; i++)
                    {
                        await server.Client.CallAsync();
                    }
                    server.Micros.Add((ProcFs.CpuTime(server.Process.Id) - before).TotalMicroseconds / calls);
                    var statsAfter = await StatsAsync(http, server.Stats);
                    server.Bytes.Add((double)(statsAfter.Bytes - statsBefore.Bytes) / calls);
                    server.Items.Add((double)(statsAfter.Items - statsBefore.Items) / calls);
                }
                Console.WriteLine($"round {round + 1}: " + string.Join("  ", servers.Select(s => $"{s.Name} {s.Micros[^1]:F1} µs, {s.Bytes[^1]:F0} B, {s.Items[^1]:F2} work items")));
            }
            foreach (var server in servers)
            {
                var sorted = server.Micros.Order().ToArray();
                Console.WriteLine($"{server.Name}: median {sorted[sorted.Length / 2]:F1} µs per call (min {sorted[0]:F1}, max {sorted[^1]:F1}), "
                    + $"{server.Bytes.Order().ElementAt(rounds / 2):F0} bytes allocated and {server.Items.Order().ElementAt(rounds / 2):F2} thread-pool work items per call "
                    + $"(medians), over {rounds} rounds of {calls} calls");
            }
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.Client.DisposeAsync();
                server.Process.Kill();
                server.Process.Dispose();
            }
            Directory.Delete(dir, true);
        }
        return 0;
    }

    private static async Task<(long Bytes, long Items)> StatsAsync(HttpClient http, Uri stats)
    {
        var parts = (await http.GetStringAsync(stats)).Split(' ');
        return (long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private static string Option(string[] args, string name, string fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }

    private static async Task WaitAsync(int port)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var socket = new TcpClient();
                await socket.ConnectAsync(System.Net.IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (attempt < 300)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>An answer of the size and shape of get-session's: text and structured content, about 1 KB.</summary>
    private const string ReferenceResult = """
        {"content":[{"type":"text","text":"{\"id\":\"ses_0123456789abcdef\",\"workspace\":\"bench\",\"status\":\"succeeded\",\"command\":[\"echo\",\"hello\"],\"exitCode\":0,\"createdAt\":\"2026-12-07T12:00:00.0000000+00:00\",\"startedAt\":\"2026-12-07T12:00:00.1000000+00:00\",\"endedAt\":\"2026-12-07T12:00:00.2000000+00:00\",\"output\":\"hello\\n\",\"outputTruncated\":false,\"timeoutSeconds\":600,\"environment\":{},\"image\":\"default\",\"labels\":{}}"}],"structuredContent":{"id":"ses_0123456789abcdef","workspace":"bench","status":"succeeded","command":["echo","hello"],"exitCode":0,"createdAt":"2026-12-07T12:00:00.0000000+00:00","startedAt":"2026-12-07T12:00:00.1000000+00:00","endedAt":"2026-12-07T12:00:00.2000000+00:00","output":"hello\n","outputTruncated":false,"timeoutSeconds":600,"environment":{},"image":"default","labels":{}}}
        """;
}
