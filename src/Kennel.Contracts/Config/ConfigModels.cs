using System.Text.Json;

namespace Kennel.Contracts.Config;

/// <summary>What <c>GET /v1/config?path=</c> answers: the value at the path (the whole document without one) and the document's hash.</summary>
public sealed record ConfigValue
{
    public required string Path { get; init; }
    public required JsonElement Value { get; init; }
    public required string Hash { get; init; }
    public required long Version { get; init; }
}

/// <summary>
/// The body of <c>PATCH /v1/config</c> (one path) and <c>PUT /v1/config</c> (the whole document, no path). A JSON
/// <c>null</c> value removes the path. <see cref="BaseHash"/>, when given, must be the current document's hash.
/// </summary>
public sealed record SetConfigRequest
{
    public string? Path { get; init; }
    public JsonElement Value { get; init; }
    public string? BaseHash { get; init; }
}

/// <summary>The answer to an accepted write: the new version and hash, and the paths it changed (empty for a no-op).</summary>
public sealed record ConfigWrite
{
    public required long Version { get; init; }
    public required string Hash { get; init; }
    public required IReadOnlyList<string> ChangedPaths { get; init; }
}

/// <summary>One accepted write, as the audit shows it.</summary>
public sealed record ConfigVersion
{
    public required long Version { get; init; }
    public required string Hash { get; init; }
    public required string Author { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required IReadOnlyList<string> ChangedPaths { get; init; }

    /// <summary>The document as that version left it; only when one version is read.</summary>
    public JsonElement? Document { get; init; }
}

public sealed record ConfigVersionList(IReadOnlyList<ConfigVersion> Items);

/// <summary>The body of <c>POST /v1/config/rollback</c>: the version whose document becomes current again.</summary>
public sealed record RollbackConfigRequest
{
    public long? Version { get; init; }
    public string? BaseHash { get; init; }
}
