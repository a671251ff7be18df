using System.Text;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kennel.Sandbox.Tests;

/// <summary>A real bubblewrap runtime over a private state directory, and a way to run a script in it and collect what it printed.</summary>
public sealed class SandboxHost : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);

    public SandboxHost(Func<BubblewrapOptions, BubblewrapOptions> configure)
    {
        // Owner-only, like a real data directory: the sandbox must work without the state directory being readable to its uid.
        StateDirectory = Directory.CreateDirectory(
            Path.Join("/var/tmp", $"kennel-sandbox-tests-{Guid.NewGuid():N}"),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
        DataMarker = $"kennel-data-{Guid.NewGuid():N}";
        File.WriteAllText(Path.Join(StateDirectory, "sessions.db"), DataMarker);
        Options = configure(new BubblewrapOptions { StateDirectory = StateDirectory });
        Runtime = new BubblewrapSandbox(Options, NullLogger<BubblewrapSandbox>.Instance);
    }

    public string StateDirectory { get; }

    /// <summary>Content of a file in the state directory, standing in for Kennel's data.</summary>
    public string DataMarker { get; }

    public BubblewrapOptions Options { get; }

    /// <summary>Where the runtime publishes the files sandboxes mount, as the runtime resolves the default.</summary>
    public string SharedDirectory => Options.EffectiveSharedDirectory;

    public BubblewrapSandbox Runtime { get; }

    public static SandboxSpec Spec(string script, int memoryMb = 256, int vcpus = 1, IReadOnlyDictionary<string, string>? env = null) => new()
    {
        SessionId = $"test-{Guid.NewGuid():N}",
        Snapshot = "test-minimal",
        Argv = ["sh", "-c", script],
        Env = env ?? new Dictionary<string, string>(),
        Vcpus = vcpus,
        MemoryMb = memoryMb,
    };

    public Task<SandboxRun> RunAsync(string script, int memoryMb = 256, int vcpus = 1, IReadOnlyDictionary<string, string>? env = null) =>
        RunAsync(Spec(script, memoryMb, vcpus, env));

    public async Task<SandboxRun> RunAsync(SandboxSpec spec)
    {
        await using var process = await Runtime.StartAsync(spec, CancellationToken.None);
        return await CollectAsync(process);
    }

    /// <summary>Reads both streams to their end while waiting, as a caller must, so a chatty workload never blocks on a full pipe.</summary>
    public static async Task<SandboxRun> CollectAsync(ISandboxProcess process)
    {
        using var timeout = new CancellationTokenSource(RunTimeout);
        var stdout = new StreamReader(process.StandardOutput, Encoding.UTF8).ReadToEndAsync(timeout.Token);
        var stderr = new StreamReader(process.StandardError, Encoding.UTF8).ReadToEndAsync(timeout.Token);
        var exit = await process.WaitForExitAsync(timeout.Token);
        return new SandboxRun(exit, await stdout, await stderr);
    }

    public void Dispose()
    {
        // The standby sandboxes go first: their cgroups and processes are the runtime's to remove.
        Runtime.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(StateDirectory, recursive: true);
    }
}

public sealed record SandboxRun(SandboxExit Exit, string Stdout, string Stderr)
{
    public int ExitCode => Exit.ExitCode;
}

/// <summary>The runtime with its default options.</summary>
public sealed class DefaultOptionsSandbox : IDisposable
{
    public SandboxHost Host { get; } = new(options => options);

    public void Dispose() => Host.Dispose();
}

/// <summary>The runtime with small caps, so a test can reach them quickly.</summary>
public sealed class SmallLimitsSandbox : IDisposable
{
    public SandboxHost Host { get; } = new(options => options with { TmpSizeBytes = 8L << 20, WorkdirSizeBytes = 8L << 20, PidsLimit = 64 });

    public void Dispose() => Host.Dispose();
}
