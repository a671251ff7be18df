namespace Kennel.Contracts.ApiKeys;

public sealed record CreateApiKeyRequest
{
    public string? Name { get; init; }
    public string? Workspace { get; init; }
    public IReadOnlyList<string>? Scopes { get; init; }
}

public sealed record ApiKey
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Workspace { get; init; }
    public required IReadOnlyList<string> Scopes { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? LastUsedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
}

/// <summary>The only time a key's secret is shown.</summary>
public sealed record CreatedApiKey(ApiKey ApiKey, string Key);

public static class Scopes
{
    public const string Read = "mcp:read";
    public const string Chat = "mcp:chat";
    public const string Write = "mcp:write";
    public const string Admin = "mcp:admin";

    public static readonly IReadOnlyList<string> All = [Read, Chat, Write, Admin];
}
