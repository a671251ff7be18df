using Kennel.Testing;

namespace Kennel.Tests;

/// <summary>Servers as <c>kennel serve</c> starts them, with the embedded bubblewrap worker.</summary>
public sealed class SharedServers() : ServersPerStore(null);

/// <summary>Servers with no worker: every session stays pending until it is cancelled.</summary>
public sealed class ServersWithoutWorkers() : ServersPerStore(s => s with { EmbeddedWorker = false });

/// <summary>
/// Servers with no worker and a 4 KiB body limit, for tests of refused requests (which must write nothing), with their
/// log kept in <see cref="Log"/> (where a refusal must leave no stack trace).
/// </summary>
public sealed class ServersForBadInput : ServersPerStore
{
    public ServersForBadInput()
        : this(new LogCapture())
    {
    }

    private ServersForBadInput(LogCapture log)
        : base(s => s with { EmbeddedWorker = false, MaxBodyBytes = 4096 }, log) => Log = log;

    public LogCapture Log { get; }
}
