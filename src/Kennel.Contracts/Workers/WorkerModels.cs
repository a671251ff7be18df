namespace Kennel.Contracts.Workers;

public sealed record Worker
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Kind { get; init; }
    public required string Health { get; init; }
    public required WorkerCapacity Capacity { get; init; }
    public required WorkerCapacity Used { get; init; }
    public required IReadOnlyDictionary<string, string> Labels { get; init; }
    public required DateTimeOffset EnrolledAt { get; init; }
    public DateTimeOffset? LastSeenAt { get; init; }

    /// <summary>Set while the worker is drained for removal (delete-server): it takes no new sessions.</summary>
    public DateTimeOffset? DrainingSince { get; init; }
}

public sealed record CreateWorkerTokenRequest(long? TtlSeconds);

public sealed record WorkerToken(string Token, DateTimeOffset ExpiresAt);
