using Kennel.ControlPlane.Hosting;
using Kennel.Testing;

namespace Kennel.Mcp.Tests;

/// <summary>The MCP tests' shared servers (see <see cref="ServersPerStore"/>).</summary>
public abstract class McpServers(Func<KennelSettings, KennelSettings>? configure, LogCapture? log = null) : ServersPerStore(configure, log);

/// <summary>Servers as <c>kennel serve</c> starts them, with the embedded bubblewrap worker.</summary>
public sealed class ServersWithWorker() : McpServers(null);

/// <summary>Servers with no worker: every session stays pending until it is cancelled.</summary>
public sealed class ServersWithoutWorkers() : McpServers(s => s with { EmbeddedWorker = false });

/// <summary>Servers with no worker, their log kept in <see cref="Log"/>: for tests that bad input leaves no stack trace there.</summary>
public sealed class ServersWatchingTheLog : McpServers
{
    public ServersWatchingTheLog()
        : this(new LogCapture())
    {
    }

    private ServersWatchingTheLog(LogCapture log)
        : base(s => s with { EmbeddedWorker = false }, log) => Log = log;

    public LogCapture Log { get; }
}
