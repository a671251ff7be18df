namespace Kennel.Contracts.Agents;

/// <summary>
/// The agent endpoint's <c>status</c>: whether it works (<c>ok</c>, or <c>degraded</c> with the first problem in
/// <see cref="Error"/>), its version and protocol, the store, the workers, and each model provider the workspace can
/// use with its last call.
/// </summary>
public sealed record AgentStatus
{
    public required string Status { get; init; }
    public required string Version { get; init; }
    public required string Protocol { get; init; }
    public string? Error { get; init; }
    public required StoreStatus Store { get; init; }
    public required WorkerStatus Workers { get; init; }
    public required IReadOnlyList<ProviderStatus> Providers { get; init; }
}

/// <summary>The store: <c>ok</c> or <c>unreachable</c>, and its kind (<c>sqlite</c> or <c>postgres</c>).</summary>
public sealed record StoreStatus(string State, string Kind);

/// <summary>The workers enrolled in the installation, and how many have polled within their lease.</summary>
public sealed record WorkerStatus(int Enrolled, int Healthy);

/// <summary>
/// A provider the workspace's agents can use: its name and kind, whether the installation or the workspace configures
/// it, and the last call this workspace made to it (none yet: null), read from the usage ledger.
/// </summary>
public sealed record ProviderStatus
{
    public required string Name { get; init; }
    public required string Kind { get; init; }
    public required string Source { get; init; }
    public ProviderCall? LastCall { get; init; }
}

/// <summary>A model call's outcome (<c>ok</c>, <c>error</c>, <c>cancelled</c>), when it ended, and the model called.</summary>
public sealed record ProviderCall(string Outcome, DateTimeOffset At, string Model);
