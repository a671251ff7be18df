using System.Security.Claims;

namespace Kennel.ControlPlane.Auth;

/// <summary>
/// Who is calling: a workspace, the scopes granted, and the credential that proved it (an API key, or an OAuth grant,
/// which also names the user and the endpoint the token was issued for).
/// </summary>
public sealed record Caller(string WorkspaceId, string WorkspaceName, IReadOnlySet<string> Scopes, string CredentialId)
{
    public const string UserIdClaim = "sub";
    public const string AudienceClaim = "aud";

    public string? UserId { get; init; }

    public string? Audience { get; init; }

    public const string WorkspaceIdClaim = "kennel:workspace_id";
    public const string WorkspaceNameClaim = "kennel:workspace";
    public const string ScopeClaim = "scope";
    public const string CredentialClaim = "kennel:credential";

    public bool Has(string scope) => Scopes.Contains(scope);

    /// <summary>
    /// An admin of the <c>default</c> workspace administers the installation: other workspaces' keys, and the worker
    /// fleet, which runs every workspace's sessions. Admins of other workspaces administer only their own.
    /// </summary>
    public bool IsInstallationAdmin => Has(Contracts.ApiKeys.Scopes.Admin) && string.Equals(WorkspaceName, "default", StringComparison.Ordinal);

    public ClaimsPrincipal ToPrincipal(string scheme) => new(new ClaimsIdentity(
        [
            new Claim(WorkspaceIdClaim, WorkspaceId),
            new Claim(WorkspaceNameClaim, WorkspaceName),
            new Claim(CredentialClaim, CredentialId),
            .. Scopes.Select(s => new Claim(ScopeClaim, s)),
            .. UserId is null ? Array.Empty<Claim>() : [new Claim(UserIdClaim, UserId), new Claim(AudienceClaim, Audience ?? "")],
        ], scheme));

    public static Caller From(ClaimsPrincipal principal) => new(
        principal.FindFirstValue(WorkspaceIdClaim) ?? throw new InvalidOperationException("The caller has no workspace."),
        principal.FindFirstValue(WorkspaceNameClaim) ?? "",
        principal.FindAll(ScopeClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal),
        principal.FindFirstValue(CredentialClaim) ?? "")
    {
        UserId = principal.FindFirstValue(UserIdClaim),
        Audience = principal.FindFirstValue(AudienceClaim),
    };
}
