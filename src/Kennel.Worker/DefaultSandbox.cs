using Kennel.Sandbox;
using Microsoft.Extensions.Logging;

namespace Kennel.Worker;

/// <summary>The sandbox a worker uses unless told otherwise: bubblewrap, with its generated files under the data dir.</summary>
public static class DefaultSandbox
{
    public static ISandboxRuntime Create(string dataDir, int hostUid, ILoggerFactory loggers) =>
        new BubblewrapSandbox(
            new BubblewrapOptions { StateDirectory = Path.Combine(dataDir, "sandbox"), HostUid = hostUid, HostGid = hostUid },
            loggers.CreateLogger<BubblewrapSandbox>());
}
