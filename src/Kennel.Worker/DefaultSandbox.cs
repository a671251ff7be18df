using System.Security.Cryptography;
using System.Text;
using Kennel.Sandbox;
using Kennel.Sandbox.Network;
using Microsoft.Extensions.Logging;

namespace Kennel.Worker;

/// <summary>The sandbox a worker uses unless told otherwise: bubblewrap, with its generated files under the data dir.</summary>
public static class DefaultSandbox
{
    /// <param name="dataDir">The data directory: the runtime's private files go under it.</param>
    /// <param name="uids">From root: the host uids sandboxes take one each of.</param>
    /// <param name="sharedDirectory">Where sandbox-readable files and uid locks go; null for the runtime's default.</param>
    /// <param name="loggers">Where the runtime logs.</param>
    /// <param name="egress">How sessions with network reach out; null for the defaults.</param>
    public static ISandboxRuntime Create(string dataDir, SandboxUidRange uids, string? sharedDirectory, ILoggerFactory loggers, EgressOptions? egress = null) =>
        new BubblewrapSandbox(Options(dataDir, sharedDirectory) with { FirstHostUid = uids.First, HostUidCount = uids.Count, Egress = egress ?? new EgressOptions() },
            loggers.CreateLogger<BubblewrapSandbox>());

    /// <summary>
    /// Where the worker of <paramref name="dataDir"/> keeps the skills it mounts: in the shared folder, which the
    /// sandboxes' uids can search (the data dir may be private), in a folder of that worker's own, so one worker's
    /// eviction never removes a skill another worker's sandbox has mounted.
    /// </summary>
    public static string SkillDirectory(string dataDir, string? sharedDirectory) =>
        Path.Join(Options(dataDir, sharedDirectory).EffectiveSharedDirectory, "skills",
            Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dataDir))))[..16]);

    /// <summary>
    /// Where the worker of <paramref name="dataDir"/> keeps the snapshots it boots, for the same reasons as its skills: in the
    /// shared folder when one is set, else, from root, under <c>/var/lib/kennel</c> (on disk: the default shared folder is
    /// under /run, often a small tmpfs, and unpacked snapshots are hundreds of MiB).
    /// </summary>
    public static string SnapshotDirectory(string dataDir, string? sharedDirectory) =>
        Path.Join(sharedDirectory is null && Environment.IsPrivilegedProcess ? "/var/lib/kennel" : Options(dataDir, sharedDirectory).EffectiveSharedDirectory,
            "worker-snapshots", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dataDir))))[..16]);

    private static BubblewrapOptions Options(string dataDir, string? sharedDirectory) => new()
    {
        StateDirectory = Path.Combine(dataDir, "sandbox"),
        SharedDirectory = sharedDirectory,
    };
}
