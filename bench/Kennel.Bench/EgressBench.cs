using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kennel.Sandbox;
using Kennel.Sandbox.Network;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kennel.Bench;

/// <summary>
/// <c>scripts/bench.sh egress [--samples N (200)] [--block N (25)] [--stress N (1000)]</c>: what a session's network
/// costs. Start to exit of <c>echo hello</c> with network mode <c>none</c> (a standby sandbox, as the worker runs it),
/// <c>none</c> started on demand (the same start without a standby), and <c>allowlist</c> (its own namespace and veth
/// pair, on demand), in alternating blocks; then the teardown (namespace delete) of each. Then the stress run: N
/// allow-list sessions, a third killed mid-run and a third refused by the proxy, after which no namespace but the
/// egress namespace, no veth and no sandbox process may remain.
/// </summary>
internal static class EgressBench
{
    private static readonly EgressPolicy Allowlist = EgressPolicy.Parse(EgressPolicy.AllowlistName, ["api.github.com", "*.pypi.org"], null)!;

    public static async Task<int> RunAsync(string[] args)
    {
        var samples = Option(args, "--samples", 200);
        var block = Option(args, "--block", 25);
        var stress = Option(args, "--stress", 1000);
        var state = Directory.CreateTempSubdirectory("kennel-bench-egress-").FullName;
        try
        {
            await using var standby = new BubblewrapSandbox(new BubblewrapOptions { StateDirectory = Path.Join(state, "standby") }, NullLogger<BubblewrapSandbox>.Instance);
            await using var onDemand = new BubblewrapSandbox(
                new BubblewrapOptions { StateDirectory = Path.Join(state, "on-demand"), StandbySandboxes = 0 }, NullLogger<BubblewrapSandbox>.Instance);
            if (!standby.Capabilities.Available || standby.Egress is null)
            {
                throw new InvalidOperationException($"sandboxes with network need root and bubblewrap here: {standby.Capabilities.Problem}");
            }

            List<(string Name, Func<Task<(double Start, double Teardown)>> Run, List<double> Starts, List<double> Teardowns)> variants =
            [
                ("none (standby sandbox, the default)", () => TimeAsync(standby, null), [], []),
                ("none, started on demand", () => TimeAsync(onDemand, null), [], []),
                ("allowlist (namespace + veth, on demand)", () => TimeAsync(standby, Allowlist), [], []),
            ];
            foreach (var (_, run, _, _) in variants)
            {
                for (var i = 0; i < 20; i++)
                {
                    await run(); // JIT, page cache, the egress namespace and proxy
                }
            }

            var order = new Random(20261208);
            while (variants[0].Starts.Count < samples)
            {
                var round = variants.ToArray();
                order.Shuffle(round);
                foreach (var (_, run, starts, teardowns) in round)
                {
                    for (var i = 0; i < block && starts.Count < samples; i++)
                    {
                        var (start, teardown) = await run();
                        starts.Add(start);
                        teardowns.Add(teardown);
                    }
                }
            }

            var none = Report.Percentile(variants[0].Starts, 50);
            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {Environment.MachineName}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"| echo hello (n={samples} each) | start→exit p50 | p90 | p99 | p50 over none | p50 ratio to none | teardown p50 | teardown p99 |");
            text.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var (name, _, starts, teardowns) in variants)
            {
                var p50 = Report.Percentile(starts, 50);
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {name} | {p50:0.00} ms | {Report.Percentile(starts, 90):0.00} ms | {Report.Percentile(starts, 99):0.00} ms | {p50 - none:+0.00;-0.00} ms | " +
                    $"{p50 / none:0.00}× | {Report.Percentile(teardowns, 50):0.00} ms | {Report.Percentile(teardowns, 99):0.00} ms |");
            }
            text.AppendLine();
            text.AppendLine(await StressAsync(standby, stress));
            Console.WriteLine(text.ToString());
            return 0;
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    private static async Task<(double Start, double Teardown)> TimeAsync(BubblewrapSandbox runtime, EgressPolicy? network)
    {
        var spec = Spec(["echo", "hello"], network);
        var started = Stopwatch.GetTimestamp();
        var process = await runtime.StartAsync(spec, CancellationToken.None);
        var output = await new StreamReader(process.StandardOutput).ReadToEndAsync();
        var exit = await process.WaitForExitAsync(CancellationToken.None);
        var start = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (exit.ExitCode != 0 || output != "hello\n")
        {
            throw new InvalidOperationException($"sandbox failed: exit {exit.ExitCode}, output '{output}'");
        }
        var disposing = Stopwatch.GetTimestamp();
        await process.DisposeAsync();
        return (start, Stopwatch.GetElapsedTime(disposing).TotalMilliseconds);
    }

    /// <summary>Runs <paramref name="count"/> allow-list sessions (a third killed, a third refused) and reports what is left.</summary>
    private static async Task<string> StressAsync(BubblewrapSandbox runtime, int count)
    {
        var started = Stopwatch.GetTimestamp();
        var refused = 0;
        for (var i = 0; i < count; i++)
        {
            string[] argv = (i % 3) switch
            {
                0 => ["echo", "hello"],
                1 => ["sleep", "30"],
                _ => ["sh", "-c", "curl -s -o /dev/null -w '%{http_code}' https://unlisted.example.com/ || true"],
            };
            await using var process = await runtime.StartAsync(Spec(argv, Allowlist), CancellationToken.None);
            var output = new StreamReader(process.StandardOutput).ReadToEndAsync();
            if (i % 3 == 1)
            {
                await process.KillAsync();
            }
            var exit = await process.WaitForExitAsync(CancellationToken.None);
            await output;
            refused += exit.Egress?.Refused ?? 0;
        }
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var egress = runtime.Egress!;
        var namespaces = egress.Namespaces();
        var hub = namespaces.Single(n => n.EndsWith('h'));
        // The kernel destroys a deleted namespace, and its veth pair, in the background: give it a moment.
        var links = await LinksAsync(hub);
        for (var wait = 0; wait < 100 && links > 1; wait++)
        {
            await Task.Delay(100);
            links = await LinksAsync(hub);
        }
        var sandboxProcesses = Directory.GetDirectories("/proc").Count(IsSandboxProcess);
        return $"Stress: {count} allow-list sessions ({count / 3 + (count % 3 > 1 ? 1 : 0)} killed mid-run, {refused} refused attempts) in {elapsed:0.0} s; " +
            $"afterwards {namespaces.Count - 1} session namespaces, {links - 1} veths in the egress namespace, {sandboxProcesses} sandbox processes.";
    }

    private static SandboxSpec Spec(IReadOnlyList<string> argv, EgressPolicy? network) => new()
    {
        SessionId = $"bench-{Guid.NewGuid():N}",
        Snapshot = "test-minimal",
        Argv = argv,
        Env = new Dictionary<string, string>(),
        Vcpus = 1,
        MemoryMb = 256,
        Network = network,
    };

    private static async Task<int> LinksAsync(string @namespace)
    {
        using var process = Process.Start(new ProcessStartInfo("ip", ["-n", @namespace, "-o", "link", "show"]) { RedirectStandardOutput = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    // A sandbox runs as a host uid of the runtime's range (from BubblewrapOptions.DefaultFirstHostUid).
    private static bool IsSandboxProcess(string directory)
    {
        try
        {
            var line = File.ReadLines(Path.Join(directory, "status")).FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            return line is not null && long.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) >= BubblewrapOptions.DefaultFirstHostUid;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
