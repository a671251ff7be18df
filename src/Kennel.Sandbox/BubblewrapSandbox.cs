using System.ComponentModel;
using System.Diagnostics;
using Kennel.Sandbox.Cgroups;
using Kennel.Sandbox.Network;
using Kennel.Sandbox.Seccomp;
using Kennel.Sandbox.Snapshots;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Kennel.Sandbox;

/// <summary>
/// Runs workloads under bubblewrap: new user, pid, net, ipc, uts, mount and cgroup namespaces, a read-only
/// root built from a snapshot, never as host root, and per-session cgroups for limits, accounting and kill. Each
/// session takes a sandbox started ahead of it (<see cref="StandbySandbox"/>).
/// </summary>
public sealed partial class BubblewrapSandbox : ISandboxRuntime
{
    private const string RuntimeName = "bubblewrap";
    private const int MaxSessionIdLength = 128;
    private const int MaxStandbySandboxes = 64;

    // uid_t is 32 bits and (uid_t)-1 means "no change"; staying below 2^31 also keeps every tool's signed parsing happy.
    private const long MaxHostUid = int.MaxValue;

    // Not an exit code: the probe's own mark for a sandbox that could not be moved into its cgroups.
    private const int CgroupJoinFailed = -2;
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    private readonly BubblewrapOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly SandboxSetup? _setup;
    private readonly StandbyPool? _pool;
    private readonly EgressNetwork? _egress;
    private readonly string? _egressProblem;

    /// <summary>Probes the machine once, so <see cref="Capabilities"/> is known before the first session. Blocks for a trivial sandbox run.</summary>
    public BubblewrapSandbox(BubblewrapOptions options, ILogger<BubblewrapSandbox> logger, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        Validate(options);
        _options = options;
        _logger = logger;
        _timeProvider = timeProvider ?? TimeProvider.System;

        (Capabilities, _setup) = Probe();
        var description = Capabilities.Describe();
        LogCapabilities(_logger, description);
        if (_setup is not null && options.StandbySandboxes > 0)
        {
            var setup = _setup;
            _pool = new StandbyPool(() => StartStandbyAsync(setup, null), options.StandbySandboxes, _timeProvider, _logger);
        }
        if (_setup is not null)
        {
            (_egress, _egressProblem) = EgressNetwork.Create(options.Egress, options.StateDirectory, _logger);
        }
    }

    /// <summary>The worker's egress (null where sandboxes cannot have network): its namespaces, for tests and the stress benchmark.</summary>
    public EgressNetwork? Egress => _egress;

    public SandboxCapabilities Capabilities { get; }

    public async Task<ISandboxProcess> StartAsync(SandboxSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (_setup is null)
        {
            throw new SandboxException("sandbox_unavailable", Capabilities.Problem ?? "The sandbox runtime is unavailable.");
        }

        Validate(spec);
        var snapshot = spec.RootFilesystem is { } root ? RootfsMounts.Create(spec.Snapshot, root) : null;
        if (snapshot is null && !_setup.Snapshots.TryGet(spec.Snapshot, out snapshot))
        {
            throw new SandboxException("snapshot_not_found", $"No snapshot named '{spec.Snapshot}' on this worker; it has: {string.Join(", ", _setup.Snapshots.Names)}.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (spec.Network is { } policy)
        {
            return await StartWithNetworkAsync(spec, snapshot, policy, cancellationToken);
        }
        return await LaunchSessionAsync(_setup, _pool, spec, snapshot, spec.Env, null);
    }

    private async Task<ISandboxProcess> LaunchSessionAsync(
        SandboxSetup setup, StandbyPool? pool, SandboxSpec spec, Snapshot snapshot, IReadOnlyDictionary<string, string> env, SafeFileHandle? network)
    {
        var limits = new CgroupLimits((long)spec.MemoryMb << 20, spec.Vcpus);
        // Like the kernel's default for a tmpfs: half the memory, which its pages are charged to.
        var shmSizeBytes = (long)spec.MemoryMb << 19;
        try
        {
            return await LaunchAsync(setup, pool, limits, hostUid =>
            {
                // The files are handed to the uid of the sandbox that runs them, so they are prepared once it is known.
                var files = SandboxFiles.Write(setup.SharedDirectory, spec.SessionId, spec.Files, hostUid);
                IReadOnlyList<string> mounts = [.. files?.MountArguments ?? [], .. SandboxSkills.MountArguments(spec.Skills)];
                return new SessionStart(setup.Command.SessionArguments(snapshot, env, spec.Argv, mounts, shmSizeBytes), files);
            }, network);
        }
        catch (CgroupJoinException e)
        {
            throw new SandboxException("sandbox_start_failed", e.Message);
        }
    }

    /// <summary>
    /// A session with network is started in a namespace made for it (no standby: a standby's namespaces are fixed
    /// before its session is known), with the proxy's variables added to its env.
    /// </summary>
    private async Task<ISandboxProcess> StartWithNetworkAsync(SandboxSpec spec, Snapshot snapshot, EgressPolicy policy, CancellationToken cancellationToken)
    {
        if (_egress is null)
        {
            throw new SandboxException("network_unavailable", $"This worker cannot give sandboxes network: {_egressProblem}.");
        }
        var network = await _egress.AttachAsync(policy, cancellationToken);
        try
        {
            var env = new Dictionary<string, string>(spec.Env, StringComparer.Ordinal);
            foreach (var (name, value) in network.Environment())
            {
                env[name] = value;
            }
            return new ProcessWithNetwork(await LaunchSessionAsync(_setup!, null, spec, snapshot, env, network.Namespace), network);
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills the standby sandboxes and removes their cgroups. Sessions already started are their owners' to end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_pool is not null)
        {
            await _pool.DisposeAsync();
        }
        if (_egress is not null)
        {
            await _egress.DisposeAsync();
        }
    }

    /// <summary>
    /// Takes a standby (from the pool, or started now) and makes it the session's. The pool refills once the session
    /// has started, whichever way it went.
    /// </summary>
    private async Task<ISandboxProcess> LaunchAsync(
        SandboxSetup setup, StandbyPool? pool, CgroupLimits limits, Func<int?, SessionStart> prepare, SafeFileHandle? network = null)
    {
        try
        {
            var standby = pool is null ? await StartStandbyAsync(setup, network) : await pool.TakeAsync();
            SessionStart session;
            try
            {
                session = prepare(standby.HostUid);
            }
            catch
            {
                await standby.DiscardAsync(_timeProvider, _logger);
                throw;
            }

            try
            {
                var process = await standby.BeginAsync(limits, session.Arguments, _timeProvider, _logger);
                return session.Files is null ? process : new ProcessWithFiles(process, session.Files);
            }
            catch (Exception e)
            {
                session.Files?.Delete();
                if (e is IOException && pool is not null)
                {
                    // The standby died while it waited (killed from outside): once more, with one started now.
                    LogStandbyLost(_logger, e.Message);
                }
                else
                {
                    throw e is IOException ? new SandboxException("sandbox_start_failed", $"Cannot start a sandbox: {e.Message}") : e;
                }
            }

            return await LaunchAsync(setup, null, limits, prepare, network);
        }
        finally
        {
            pool?.Refill();
        }
    }

    private Task<StandbySandbox> StartStandbyAsync(SandboxSetup setup, SafeFileHandle? network) => StandbySandbox.StartAsync(setup, _timeProvider, _logger, network);

    private (SandboxCapabilities, SandboxSetup?) Probe()
    {
        var bwrap = ExecutableSearch.Find("bwrap");
        if (bwrap is null)
        {
            return (Unavailable("bubblewrap (bwrap) is not installed; install it with: apt-get install bubblewrap"), null);
        }

        // From root each sandbox is started as a host uid of its own, switched to in the forked child before bwrap's
        // exec (HostUidStart): those uids have no passwd entries, which .NET's public switch needs. Where this runtime
        // lacks the private members that takes (or when asked), setpriv's exec switches instead.
        string? setpriv = null;
        if (Environment.IsPrivilegedProcess && (_options.SwitchUidWithSetpriv || !HostUidStart.IsSupported))
        {
            setpriv = ExecutableSearch.Find("setpriv");
            if (setpriv is null)
            {
                return (Unavailable("the worker runs as root and this .NET runtime cannot start a sandbox as a host uid of its own, so it "
                    + "needs setpriv to do that, which is not installed; install it with: apt-get install util-linux"), null);
            }
        }

        byte[] seccomp;
        try
        {
            seccomp = SeccompPolicy.Compile();
        }
        catch (SandboxException e)
        {
            return (Unavailable(e.Message), null);
        }

        var sharedDirectory = _options.EffectiveSharedDirectory;
        SnapshotCatalogue catalogue;
        HostUids? uids = null;
        try
        {
            catalogue = SnapshotCatalogue.CreateBuiltIn(sharedDirectory);
            if (Environment.IsPrivilegedProcess)
            {
                uids = new HostUids(_options.FirstHostUid, _options.HostUidCount, Path.Join(sharedDirectory, "uids"));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (Unavailable($"cannot write the sandbox's files under {sharedDirectory}: {e.Message}"), null);
        }

        RemoveOldSnapshotFiles();
        var setup = new SandboxSetup(
            new BubblewrapCommand(bwrap, setpriv, _options), catalogue, CgroupLayout.Detect(_options.CgroupGroup, _logger), sharedDirectory, uids, seccomp, _options.PidsLimit);
        if (setup.Cgroups.RemoveLeftovers(_timeProvider, _logger) is > 0 and var removed)
        {
            LogLeftoversRemoved(_logger, removed);
        }

        var probe = RunProbe(setup);
        if (probe.ExitCode == CgroupJoinFailed && !setup.Cgroups.IsEmpty)
        {
            // The sandbox could not join its cgroups. Run without them rather than not at all, and say so.
            LogCgroupsUnusable(_logger, probe.Error);
            setup = setup with { Cgroups = CgroupLayout.None };
            probe = RunProbe(setup);
        }

        if (probe.ExitCode != 0 || !probe.Started)
        {
            return (Unavailable(
                "bubblewrap cannot create a sandbox here; unprivileged user namespaces may be disabled "
                + $"(see sysctl user.max_user_namespaces and kernel.unprivileged_userns_clone): exit {probe.ExitCode}: {probe.Error}"), null);
        }

        var support = setup.Cgroups.Support;
        var capabilities = new SandboxCapabilities
        {
            Available = true,
            Runtime = RuntimeName,
            MemoryLimit = support.MemoryLimit,
            CpuLimit = support.CpuLimit,
            PidsLimit = support.PidsLimit,
            CpuAccounting = support.CpuAccounting,
        };
        return (capabilities, setup);
    }

    // The constructor is synchronous by contract, so it blocks on the probe. Task.Run keeps the probe's
    // continuations off the caller's synchronization context, if it has one, so the block cannot deadlock.
    private (int ExitCode, bool Started, string Error) RunProbe(SandboxSetup setup) =>
        Task.Run(() => RunProbeAsync(setup)).GetAwaiter().GetResult();

    private async Task<(int ExitCode, bool Started, string Error)> RunProbeAsync(SandboxSetup setup)
    {
        setup.Snapshots.TryGet(SnapshotCatalogue.TestMinimal, out var snapshot);
        const long ProbeMemory = 64L << 20;
        ISandboxProcess process;
        try
        {
            process = await LaunchAsync(setup, null, new CgroupLimits(ProbeMemory, 1), _ =>
                new SessionStart(setup.Command.SessionArguments(snapshot!, new Dictionary<string, string>(), ["true"], [], ProbeMemory / 2), null));
        }
        catch (CgroupJoinException e)
        {
            return (CgroupJoinFailed, false, e.Message);
        }
        catch (SandboxException e)
        {
            return (-1, false, e.Message);
        }

        await using (process)
        {
            using var timeout = new CancellationTokenSource(ProbeTimeout, _timeProvider);
            using var stderr = new StreamReader(process.StandardError);
            try
            {
                var error = await stderr.ReadToEndAsync(timeout.Token);
                var exit = await process.WaitForExitAsync(timeout.Token);
                return (exit.ExitCode, exit.Started, error.Trim());
            }
            catch (OperationCanceledException)
            {
                return (-1, false, $"a trivial sandbox did not finish within {ProbeTimeout.TotalSeconds} s");
            }
        }
    }

    // Earlier versions generated /etc under the state directory; nothing uses it now. Tidying is best effort.
    private void RemoveOldSnapshotFiles()
    {
        try
        {
            var old = Path.Join(_options.StateDirectory, "snapshots");
            if (Directory.Exists(old))
            {
                Directory.Delete(old, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogOldFilesNotRemoved(_logger, e.Message);
        }
    }

    private static SandboxCapabilities Unavailable(string problem) => new()
    {
        Available = false,
        Problem = problem,
        Runtime = RuntimeName,
        MemoryLimit = false,
        CpuLimit = false,
        PidsLimit = false,
        CpuAccounting = false,
    };

    private static void Validate(BubblewrapOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.StateDirectory, nameof(options.StateDirectory));
        if (options.SharedDirectory is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(options.SharedDirectory, nameof(options.SharedDirectory));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.FirstHostUid, nameof(options.FirstHostUid));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.HostUidCount, nameof(options.HostUidCount));
        if ((long)options.FirstHostUid + options.HostUidCount > MaxHostUid)
        {
            throw new ArgumentException($"The sandbox host uids must end at or below {MaxHostUid}.", nameof(options));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.TmpSizeBytes, nameof(options.TmpSizeBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.WorkdirSizeBytes, nameof(options.WorkdirSizeBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.PidsLimit, nameof(options.PidsLimit));
        ArgumentOutOfRangeException.ThrowIfNegative(options.StandbySandboxes, nameof(options.StandbySandboxes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.StandbySandboxes, MaxStandbySandboxes, nameof(options.StandbySandboxes));
        if (!IsPathComponent(options.CgroupGroup))
        {
            throw new ArgumentException("The cgroup group must be one path component of letters, digits, '.', '_' or '-'.", nameof(options));
        }
    }

    private static void Validate(SandboxSpec spec)
    {
        // The session id names the session's cgroup directories, so it must stay one plain path component.
        if (spec.SessionId.Length > MaxSessionIdLength || !IsPathComponent(spec.SessionId))
        {
            throw Invalid($"SessionId must be 1-{MaxSessionIdLength} letters, digits, '.', '_' or '-', starting with a letter or digit.");
        }

        if (spec.Argv.Count == 0)
        {
            throw Invalid("Argv must name a program to run.");
        }

        if (spec.Argv.Any(a => a.Contains('\0', StringComparison.Ordinal)))
        {
            throw Invalid("Argv must not contain NUL characters.");
        }

        foreach (var (name, value) in spec.Env)
        {
            if (name.Length == 0 || name.Contains('=', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal) || value.Contains('\0', StringComparison.Ordinal))
            {
                throw Invalid($"Env has an invalid variable '{name}': names must be non-empty without '=', and neither names nor values may contain NUL.");
            }

            if (name.StartsWith(SandboxSpec.ReservedEnvPrefix, StringComparison.Ordinal))
            {
                throw Invalid($"Env variable '{name}' is reserved: names starting with {SandboxSpec.ReservedEnvPrefix} carry the workload's argv into the sandbox.");
            }
        }

        SandboxFiles.Validate(spec.Files);
        SandboxSkills.Validate(spec.Skills);

        if (spec.Vcpus < 1)
        {
            throw Invalid("Vcpus must be at least 1.");
        }

        if (spec.MemoryMb < 1)
        {
            throw Invalid("MemoryMb must be at least 1.");
        }

        static SandboxException Invalid(string message) => new("invalid_spec", message);
    }

    private static bool IsPathComponent(string name) =>
        name.Length > 0
        && char.IsAsciiLetterOrDigit(name[0])
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>A session's arguments for its standby, and its files on the host (removed when it ends).</summary>
    private sealed record SessionStart(byte[] Arguments, SandboxFiles? Files);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox runtime: {Description}")]
    private static partial void LogCapabilities(ILogger logger, string description);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} empty sandbox cgroups left behind by a worker that did not exit cleanly")]
    private static partial void LogLeftoversRemoved(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove the sandbox files of an earlier version: {Reason}")]
    private static partial void LogOldFilesNotRemoved(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A standby sandbox had died; starting the session in a new one: {Reason}")]
    private static partial void LogStandbyLost(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandboxes cannot join their cgroups, so they run without limits: {Reason}")]
    private static partial void LogCgroupsUnusable(ILogger logger, string reason);
}
