using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kennel.Sandbox;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kennel.Bench;

/// <summary>
/// <c>scripts/bench.sh sandbox [--samples N]</c>: the sandbox alone, without the control plane. Start to exit of
/// <c>echo hello</c> for raw bwrap (as the runtime started it before the hardening, then with each hardening step added),
/// for the bubblewrap runtime as the worker runs it (standby sandboxes), and for the same runtime starting each sandbox
/// on demand (<see cref="BubblewrapOptions.StandbySandboxes"/> = 0), in alternating blocks (<c>--block N</c>, 25; in a new
/// order each round) so that machine noise hits all alike. <c>--compare-with DIR</c> adds another build's runtime (<see cref="OtherBuildSandbox"/>: DIR holds its
/// Kennel.Sandbox.dll), both ways, to the same alternation.
/// </summary>
internal static class SandboxBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var index = Array.IndexOf(args, "--samples");
        var samples = index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : 200;
        var blockIndex = Array.IndexOf(args, "--block");
        var block = blockIndex >= 0 && blockIndex + 1 < args.Length ? int.Parse(args[blockIndex + 1], CultureInfo.InvariantCulture) : 25;
        var otherBuilds = SessionsCompare.OtherBuilds(args);
        var state = Directory.CreateTempSubdirectory("kennel-bench-sandbox-").FullName;
        try
        {
            await using var standby = new BubblewrapSandbox(new BubblewrapOptions { StateDirectory = Path.Join(state, "standby") }, NullLogger<BubblewrapSandbox>.Instance);
            await using var onDemand = new BubblewrapSandbox(
                new BubblewrapOptions { StateDirectory = Path.Join(state, "on-demand"), StandbySandboxes = 0 }, NullLogger<BubblewrapSandbox>.Instance);
            if (!standby.Capabilities.Available)
            {
                throw new InvalidOperationException(standby.Capabilities.Problem);
            }

            List<(string Name, Func<Task<double>> Run, List<double> Times, List<double> Cpu)> variants =
            [
                ("raw bwrap", RawBwrap.RunEchoAsync, [], []),
                ("raw bwrap + no nested user namespaces", () => RawBwrap.RunEchoAsync(RawBwrap.Hardening.NoNestedUserNamespaces), [], []),
                ("raw bwrap + seccomp and status pipe", () => RawBwrap.RunEchoAsync(RawBwrap.Hardening.SeccompAndStatus), [], []),
                ("raw bwrap + /dev/shm", () => RawBwrap.RunEchoAsync(RawBwrap.Hardening.SharedMemory), [], []),
                ("raw bwrap + all three", () => RawBwrap.RunEchoAsync(RawBwrap.Hardening.All), [], []),
            ];
            if (Environment.IsPrivilegedProcess)
            {
                variants.Add(("raw setpriv to a uid + bwrap + all three", () => RawBwrap.RunEchoAsync(RawBwrap.Hardening.All | RawBwrap.Hardening.Setpriv), [], []));
                variants.Add(("raw bwrap as a uid (switched in the child) + all three", () => RawBwrap.RunEchoAsync(RawBwrap.Hardening.All | RawBwrap.Hardening.HostUid), [], []));
            }

            variants.Add(("runtime, standby sandboxes (default)", () => RunEchoAsync(standby), [], []));
            variants.Add(("runtime, every sandbox on demand", () => RunEchoAsync(onDemand), [], []));
            var others = new List<OtherBuildSandbox>();
            foreach (var (i, directory) in otherBuilds.Index())
            {
                var otherStandby = OtherBuildSandbox.Load(directory, Path.Join(state, $"other-{i}-standby"), 2);
                var otherOnDemand = OtherBuildSandbox.Load(directory, Path.Join(state, $"other-{i}-on-demand"), 0);
                others.AddRange([otherStandby, otherOnDemand]);
                variants.Add(($"build {i + 1} ({directory}), standby sandboxes", () => RunEchoAsync(otherStandby), [], []));
                variants.Add(($"build {i + 1} ({directory}), on demand", () => RunEchoAsync(otherOnDemand), [], []));
            }

            foreach (var (_, run, _, _) in variants)
            {
                for (var i = 0; i < 20; i++)
                {
                    await run(); // JIT and page cache
                }
            }

            // Each round in a new order: what one variant leaves the kernel to finish (namespaces and cgroups torn down after
            // the exit, a standby pool refilling) slows whichever comes next, so no variant may always follow the same one.
            var order = new Random(20261207);
            while (variants[0].Times.Count < samples)
            {
                var round = variants.ToArray();
                order.Shuffle(round);
                foreach (var (_, run, times, cpu) in round)
                {
                    for (var i = 0; i < block && times.Count < samples; i++)
                    {
                        var children = ProcFs.ChildrenCpuTime();
                        times.Add(await run());
                        cpu.Add((ProcFs.ChildrenCpuTime() - children).TotalMilliseconds);
                    }
                }
            }

            var raw = Report.Percentile(variants[0].Times, 50);
            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {Environment.MachineName}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"| echo hello, start→exit (n={samples} each) | p50 | p90 | p99 | p50 over raw bwrap | CPU of the sandbox's processes, p50 |");
            text.AppendLine("|---|---|---|---|---|---|");
            foreach (var (name, _, times, cpu) in variants)
            {
                var p50 = Report.Percentile(times, 50);
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {name} | {p50:0.00} ms | {Report.Percentile(times, 90):0.00} ms | {Report.Percentile(times, 99):0.00} ms | {p50 - raw:+0.00;-0.00} ms | {Report.Percentile(cpu, 50):0.00} ms |");
            }

            Console.WriteLine(text.ToString());
            foreach (var other in others)
            {
                await other.DisposeAsync();
            }

            return 0;
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    // As the worker does: start, read the output, wait for the exit; the clean-up after it is off the clock.
    internal static async Task<double> RunEchoAsync(BubblewrapSandbox runtime, Kennel.Sandbox.Network.EgressPolicy? network = null)
    {
        var spec = new SandboxSpec
        {
            SessionId = $"bench-{Guid.NewGuid():N}",
            Snapshot = "test-minimal",
            Argv = ["echo", "hello"],
            Env = new Dictionary<string, string>(),
            Vcpus = 1,
            MemoryMb = 512,
            Network = network,
        };
        var started = Stopwatch.GetTimestamp();
        await using var process = await runtime.StartAsync(spec, CancellationToken.None);
        var stderr = new StreamReader(process.StandardError).ReadToEndAsync();
        var output = await new StreamReader(process.StandardOutput).ReadToEndAsync();
        var exit = await process.WaitForExitAsync(CancellationToken.None);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (exit.ExitCode != 0 || output != "hello\n")
        {
            throw new InvalidOperationException($"sandbox failed: exit {exit.ExitCode}, output '{output}', stderr '{await stderr}'");
        }

        return elapsed;
    }

    private static async Task<double> RunEchoAsync(OtherBuildSandbox runtime)
    {
        var (output, exitCode, elapsed) = await runtime.RunAsync($"bench-{Guid.NewGuid():N}", ["echo", "hello"]);
        if (exitCode != 0 || output != "hello\n")
        {
            throw new InvalidOperationException($"the other build's sandbox failed: exit {exitCode}, output '{output}'");
        }

        return elapsed;
    }
}
