using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Kennel.Bench.Agents;

/// <summary>
/// <c>scripts/bench.sh agents-growth [--checkpoints 10000,20000,30000] [--settle-seconds N (5)]</c>: whether
/// <c>kennel serve</c>'s RSS levels off as turns go on. Turns as the agents benchmark's growth phase makes them (16 at a
/// time, each in a new conversation, against a provider that answers at once); at each checkpoint, after a pause, a full
/// GC is forced when <c>BENCH_GCDUMP</c> names a <c>dotnet-gcdump</c> (its dump, kept in <c>BENCH_GCDUMP_DIR</c> when set,
/// shows what the managed heap holds), then RSS is read.
/// </summary>
internal static class GrowthBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var index = Array.IndexOf(args, "--checkpoints");
        var checkpoints = (index >= 0 && index + 1 < args.Length ? args[index + 1] : "10000,20000,30000").Split(',')
            .Select(n => int.Parse(n, CultureInfo.InvariantCulture)).ToList();
        var settle = Array.IndexOf(args, "--settle-seconds") is var s and >= 0 && s + 1 < args.Length
            ? int.Parse(args[s + 1], CultureInfo.InvariantCulture) : 5;
        await using var provider = await LocalProvider.StartAsync(TimeSpan.Zero);
        await using var kennel = await KennelAgents.StartAsync(provider);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Machine: {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {File.ReadAllText("/proc/loadavg")[..14]}; " +
            $"a full GC before each reading: {(Environment.GetEnvironmentVariable("BENCH_GCDUMP") is null ? "no" : "yes (dotnet-gcdump)")}");
        text.AppendLine();
        text.AppendLine("| turns | RSS | of it anonymous / file-backed | managed heap after GC | time for the step |");
        text.AppendLine("|---|---|---|---|---|");
        await Task.Delay(TimeSpan.FromSeconds(settle));
        text.AppendLine(Row(0, await ReadAsync(kennel, 0), TimeSpan.Zero));
        var done = 0;
        foreach (var checkpoint in checkpoints)
        {
            var clock = Stopwatch.StartNew();
            await AgentsBench.GrowAsync(kennel, checkpoint - done, $"growth-{done}");
            done = checkpoint;
            var step = clock.Elapsed;
            await Task.Delay(TimeSpan.FromSeconds(settle));
            text.AppendLine(Row(checkpoint, await ReadAsync(kennel, checkpoint), step));
            Console.Error.WriteLine($"{checkpoint} turns: {step.TotalSeconds:0} s");
        }
        Console.Out.Write(text.ToString());
        return 0;
    }

    private static string Row(int turns, (double Rss, double Anon, double File, string Heap) reading, TimeSpan step) =>
        string.Create(CultureInfo.InvariantCulture,
            $"| {turns:N0} | {reading.Rss:0.0} MB | {reading.Anon:0.0} / {reading.File:0.0} MB | {reading.Heap} | {step.TotalSeconds:0} s |");

    private static async Task<string> RunAsync(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return await output + await errors;
    }

    /// <summary>RSS, after a full GC and the heap's size from its dump when dotnet-gcdump is there.</summary>
    private static async Task<(double Rss, double Anon, double File, string Heap)> ReadAsync(KennelAgents kennel, int turns)
    {
        var heap = "not read";
        if (Environment.GetEnvironmentVariable("BENCH_GCDUMP") is { } gcdump)
        {
            var dir = Environment.GetEnvironmentVariable("BENCH_GCDUMP_DIR") ?? Path.GetTempPath();
            var file = Path.Combine(dir, $"kennel-{turns}.gcdump");
            await RunAsync(gcdump, "collect", "-p", kennel.ProcessId.ToString(CultureInfo.InvariantCulture), "-o", file);
            var report = await RunAsync(gcdump, "report", file);
            heap = report.Split('\n').FirstOrDefault(line => line.Contains("GC Heap bytes", StringComparison.Ordinal))?.Trim() ?? "see the dump";
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        return (kennel.RssMegabytes(), ProcFs.StatusMegabytes(kennel.ProcessId, "RssAnon:"), ProcFs.StatusMegabytes(kennel.ProcessId, "RssFile:"), heap);
    }
}
