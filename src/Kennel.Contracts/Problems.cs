namespace Kennel.Contracts;

/// <summary>RFC 9457 problem details as Kennel sends them: always a stable <see cref="Code"/>, and the field at fault when there is one.</summary>
public sealed record Problem
{
    public string Type { get; init; } = "about:blank";
    public required string Title { get; init; }
    public required int Status { get; init; }
    public string? Detail { get; init; }
    public required string Code { get; init; }
    public string? Field { get; init; }
}
