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

    /// <summary>The caller as claims, in an identity that also keeps the caller itself for <see cref="From"/>.</summary>
    public ClaimsPrincipal ToPrincipal(string scheme) => new(new CallerIdentity(this,
        [
            new Claim(WorkspaceIdClaim, WorkspaceId),
            new Claim(WorkspaceNameClaim, WorkspaceName),
            new Claim(CredentialClaim, CredentialId),
            .. Scopes.Select(s => new Claim(ScopeClaim, s)),
            .. UserId is null ? Array.Empty<Claim>() : [new Claim(UserIdClaim, UserId), new Claim(AudienceClaim, Audience ?? "")],
        ], scheme));

    /// <summary>
    /// The caller a principal stands for: the one <see cref="ToPrincipal"/> made it from, as it was (every request reads
    /// its caller, often more than once, so its claims are not parsed again), or else the one its claims say.
    /// </summary>
    public static Caller From(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        foreach (var identity in principal.Identities)
        {
            if (identity is CallerIdentity made)
            {
                return made.Caller;
            }
        }
        return new(
            principal.FindFirstValue(WorkspaceIdClaim) ?? throw new InvalidOperationException("The caller has no workspace."),
            principal.FindFirstValue(WorkspaceNameClaim) ?? "",
            principal.FindAll(ScopeClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal),
            principal.FindFirstValue(CredentialClaim) ?? "")
        {
            UserId = principal.FindFirstValue(UserIdClaim),
            Audience = principal.FindFirstValue(AudienceClaim),
        };
    }

    /// <summary>
    /// The identity of <see cref="ToPrincipal"/>: its claims, and the caller they were made from. Nothing adds claims
    /// to it or removes any after it is made, so the two cannot disagree; a clone keeps both.
    /// </summary>
    private sealed class CallerIdentity : ClaimsIdentity
    {
        public CallerIdentity(Caller caller, IEnumerable<Claim> claims, string scheme)
            : base(claims, scheme) => Caller = caller;

        private CallerIdentity(CallerIdentity other)
            : base(other) => Caller = other.Caller;

        public Caller Caller { get; }

        public override ClaimsIdentity Clone() => new CallerIdentity(this);
    }
}
