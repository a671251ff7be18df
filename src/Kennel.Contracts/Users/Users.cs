namespace Kennel.Contracts.Users;

public sealed record CreateUserRequest
{
    public string? Email { get; init; }
    public string? Password { get; init; }
    /// <summary>A workspace to make the user a member of (created if new).</summary>
    public string? Workspace { get; init; }
    /// <summary>owner, admin, member or viewer; member when a workspace is named without one.</summary>
    public string? Role { get; init; }
}

public sealed record SetRoleRequest
{
    public string? Workspace { get; init; }
    public string? Role { get; init; }
}

public sealed record ChangePasswordRequest
{
    public string? Password { get; init; }
}

public sealed record Membership(string Workspace, string Role);

public sealed record User
{
    public required string Id { get; init; }
    public required string Email { get; init; }
    public required IReadOnlyList<Membership> Memberships { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A user's role in a workspace decides which scopes they can grant a client.</summary>
public static class Roles
{
    public const string Owner = "owner";
    public const string Admin = "admin";
    public const string Member = "member";
    public const string Viewer = "viewer";

    public static readonly IReadOnlyList<string> All = [Owner, Admin, Member, Viewer];

    public static IReadOnlyList<string> GrantableScopes(string role) => role switch
    {
        Owner or Admin => ApiKeys.Scopes.All,
        Member => [ApiKeys.Scopes.Read, ApiKeys.Scopes.Chat, ApiKeys.Scopes.Write],
        Viewer => [ApiKeys.Scopes.Read],
        _ => [],
    };
}

/// <summary>The answer to a signing key rotation: the id (<c>kid</c>) of the key that signs from now on.</summary>
public sealed record SigningKeyRotation(string Kid);
