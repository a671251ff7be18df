namespace Kennel.Contracts.Cost;

/// <summary>
/// <c>GET /v1/cost</c>: vCPU-seconds (allocated: vCPUs × wall time) and CPU-seconds (measured) of the sessions created
/// in [from, to), grouped by daemon or by UTC day. Sessions no daemon started group under <c>daemon: null</c>.
/// </summary>
public sealed record CostSummary
{
    public required DateTimeOffset From { get; init; }
    public required DateTimeOffset To { get; init; }
    public required string GroupBy { get; init; }
    public required IReadOnlyList<CostGroup> Groups { get; init; }
    public required CostTotals Total { get; init; }
}

public sealed record CostGroup
{
    public string? Daemon { get; init; }
    public string? Day { get; init; }
    public required long Sessions { get; init; }
    public required double VcpuSeconds { get; init; }
    public required double CpuSeconds { get; init; }
}

public sealed record CostTotals(long Sessions, double VcpuSeconds, double CpuSeconds);
