using Kennel.Sandbox.Network;

namespace Kennel.Sandbox;

/// <summary>A way to run a workload in isolation. The worker holds one, asks it for each session, and disposes it last.</summary>
public interface ISandboxRuntime : IAsyncDisposable
{
    /// <summary>What this machine enforces, found once at start so a missing piece is reported before the first session.</summary>
    SandboxCapabilities Capabilities { get; }

    /// <summary>Starts the workload. Throws <see cref="SandboxException"/> with a stable code when it cannot.</summary>
    Task<ISandboxProcess> StartAsync(SandboxSpec spec, CancellationToken cancellationToken);
}

/// <summary>A running workload: its two output streams, its exit, and a kill that takes the whole tree.</summary>
public interface ISandboxProcess : IAsyncDisposable
{
    Stream StandardOutput { get; }
    Stream StandardError { get; }

    /// <summary>Completes when the workload's whole process tree has exited.</summary>
    Task<SandboxExit> WaitForExitAsync(CancellationToken cancellationToken);

    /// <summary>Kills every process of the workload. Safe to call more than once and after exit.</summary>
    Task KillAsync();
}

public sealed record SandboxSpec
{
    /// <summary>Env names with this prefix are the runtime's own (they carry the argv into the sandbox); a spec may not use them.</summary>
    public const string ReservedEnvPrefix = "_KENNEL_ARG";

    public required string SessionId { get; init; }
    public required string Snapshot { get; init; }
    public required IReadOnlyList<string> Argv { get; init; }
    public required IReadOnlyDictionary<string, string> Env { get; init; }
    public required int Vcpus { get; init; }
    public required int MemoryMb { get; init; }

    /// <summary>Files shown to the workload read-only, at absolute paths under <c>/run/kennel/</c>.</summary>
    public IReadOnlyList<SandboxFile> Files { get; init; } = [];

    /// <summary>Skills shown to the workload read-only, each at <c>/skills/{name}</c>.</summary>
    public IReadOnlyList<SandboxSkill> Skills { get; init; } = [];

    /// <summary>
    /// A built snapshot's unpacked image (see <see cref="Snapshots.SnapshotImage"/>), which becomes the sandbox's root,
    /// read-only. Null boots the built-in snapshot that <see cref="Snapshot"/> names.
    /// </summary>
    public string? RootFilesystem { get; init; }

    /// <summary>The sandbox's network through the worker's egress proxy; null (the default) gives it none, only its own loopback.</summary>
    public EgressPolicy? Network { get; init; }
}

/// <param name="ExitCode">The workload's exit code, or 128 + signal when a signal ended it.</param>
/// <param name="OutOfMemory">True when the memory limit killed the workload.</param>
/// <param name="CpuSeconds">CPU time of the whole process tree, measured by the cgroup where one exists.</param>
/// <param name="Started">False when the sandbox could not be built, so nothing of the workload ran: the exit code and stderr are the runtime's (bwrap's), not the workload's.</param>
/// <param name="Egress">For a sandbox with network: what it moved and was refused.</param>
public sealed record SandboxExit(int ExitCode, bool OutOfMemory, double CpuSeconds, bool Started = true, EgressUsage? Egress = null);

/// <summary>What the sandbox enforces on this machine, for the start-up report and the fleet view.</summary>
public sealed record SandboxCapabilities
{
    public required bool Available { get; init; }
    public string? Problem { get; init; }
    public required bool MemoryLimit { get; init; }
    public required bool CpuLimit { get; init; }
    public required bool PidsLimit { get; init; }
    public required bool CpuAccounting { get; init; }
    public required string Runtime { get; init; }

    public string Describe() => Available
        ? $"{Runtime}: memory limit {OnOff(MemoryLimit)}, cpu limit {OnOff(CpuLimit)}, pids limit {OnOff(PidsLimit)}, cpu accounting {OnOff(CpuAccounting)}"
        : $"{Runtime} unavailable: {Problem}";

    private static string OnOff(bool enforced) => enforced ? "enforced" : "NOT enforced";
}

/// <summary>A failure to start a workload, with a code that becomes the session's error code (e.g. <c>snapshot_not_found</c>).</summary>
public sealed class SandboxException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
