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

    /// <summary>Each finding behind a refusal that has several (a skill install's inspection), when there are any.</summary>
    public IReadOnlyList<ProblemReason>? Reasons { get; init; }
}

/// <summary>One finding of a refusal: a stable code, what was seen, and where (such as a path in an archive).</summary>
public sealed record ProblemReason(string Code, string Message, string? Path);
