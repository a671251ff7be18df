namespace Kennel.Contracts.Secrets;

/// <summary>The body of <c>PUT /v1/secrets/{name}</c>: the value to keep. It is never shown again.</summary>
public sealed record SetSecretRequest
{
    public string? Value { get; init; }
}

/// <summary>A secret as every API shows it: its name and times, never its value.</summary>
public sealed record Secret
{
    public required string Name { get; init; }
    public required string Workspace { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

public sealed record SecretList(IReadOnlyList<Secret> Items);

/// <summary>What <c>kennel secret delete --json</c> prints (the API answers 204).</summary>
public sealed record DeletedSecret(string Name, bool Deleted);
