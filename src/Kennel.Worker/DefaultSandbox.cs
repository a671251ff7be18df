using Kennel.Sandbox;
using Microsoft.Extensions.Logging;

namespace Kennel.Worker;

/// <summary>The sandbox a worker uses unless told otherwise: bubblewrap, with its generated files under the data dir.</summary>
public static class DefaultSandbox
{
    /// <param name="dataDir">The data directory: the runtime's private files go under it.</param>
    /// <param name="uids">From root: the host uids sandboxes take one each of.</param>
    /// <param name="sharedDirectory">Where sandbox-readable files and uid locks go; null for the runtime's default.</param>
    /// <param name="loggers">Where the runtime logs.</param>
    public static ISandboxRuntime Create(string dataDir, SandboxUidRange uids, string? sharedDirectory, ILoggerFactory loggers) =>
        new BubblewrapSandbox(
            new BubblewrapOptions
            {
                StateDirectory = Path.Combine(dataDir, "sandbox"),
                SharedDirectory = sharedDirectory,
                FirstHostUid = uids.First,
                HostUidCount = uids.Count,
            },
            loggers.CreateLogger<BubblewrapSandbox>());
}
