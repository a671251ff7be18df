using System.Net.Mail;
using Kennel.Contracts.Users;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.OAuth;
using Kennel.ControlPlane.Workspaces;
using Kennel.Store;

namespace Kennel.ControlPlane.Users;

/// <summary>
/// The outcome of a sign-in: the user, or null. An unknown email, a wrong password and a locked account look the same
/// and cost the same (one password hash check), so the answer does not tell which accounts exist.
/// </summary>
public sealed record SignIn(UserRow? User)
{
    public bool Succeeded => User is not null;
}

/// <summary>
/// Local accounts: created, listed, re-passworded and deleted by an installation admin; signed in with email and
/// password on the OAuth login page. Repeated failures for one account are throttled with a growing delay; each
/// attempt takes its place in the count before the password is checked, so parallel guesses cannot slip past it.
/// </summary>
public sealed class UserService(UserStore store, WorkspaceStore workspaces, GrantStore grants, ConsentStore consents, TimeProvider time)
{
    public const int MinPasswordLength = 10;
    public const int MaxPasswordLength = 1024;
    /// <summary>Failures allowed before each further attempt waits; the wait doubles per failure, up to 15 minutes.</summary>
    public const int FreeFailures = 5;
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(15);

    public async Task<User> CreateAsync(Caller caller, CreateUserRequest request, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        var email = ValidEmail(request.Email);
        var password = ValidPassword(request.Password);
        var membership = request.Workspace is not null || request.Role is not null
            ? await MembershipAsync(request.Workspace ?? WorkspaceStore.DefaultName, request.Role, cancellationToken)
            : null;
        var user = new UserRow
        {
            Id = SortableId.New("usr", time),
            Email = email,
            PasswordHash = PasswordHasher.Hash(password),
            CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        if (membership is not null)
        {
            membership.UserId = user.Id;
        }
        if (!await store.InsertAsync(user, membership, cancellationToken))
        {
            throw ApiProblem.Conflict(ErrorCodes.UserExists, $"A user with the email '{email}' already exists.");
        }
        return ToContract(user, membership is null ? [] : [membership]);
    }

    public async Task<IReadOnlyList<User>> ListAsync(Caller caller, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        var users = await store.ListAsync(cancellationToken);
        var memberships = (await store.MembershipsAsync(null, cancellationToken)).ToLookup(m => m.UserId, StringComparer.Ordinal);
        return [.. users.Select(user => ToContract(user, [.. memberships[user.Id]]))];
    }

    /// <summary>Makes the user a member of a workspace (created if new) with a role, or changes the role they have there.</summary>
    public async Task<User> SetRoleAsync(Caller caller, string email, SetRoleRequest request, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        if (request.Workspace is null)
        {
            throw ApiProblem.Invalid("workspace", "Name the workspace.");
        }
        var user = await store.FindByEmailAsync(email.Trim().ToLowerInvariant(), cancellationToken) ?? throw NoSuchUser(email);
        var membership = await MembershipAsync(request.Workspace, request.Role, cancellationToken);
        await store.SetRoleAsync(user.Id, membership.WorkspaceId, membership.Role, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        return ToContract(user, await store.MembershipsAsync(user.Id, cancellationToken));
    }

    public async Task<User> SetPasswordAsync(Caller caller, string email, ChangePasswordRequest request, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        var password = ValidPassword(request.Password);
        var user = await store.FindByEmailAsync(email.Trim().ToLowerInvariant(), cancellationToken) ?? throw NoSuchUser(email);
        // A new password locks out whoever knew the old one: their browser sign-ins end and their tokens are revoked.
        await store.SetPasswordAsync(user.Id, PasswordHasher.Hash(password), cancellationToken);
        await grants.RevokeForUserAsync(user.Id, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        return ToContract(user, await store.MembershipsAsync(user.Id, cancellationToken));
    }

    /// <summary>Deletes the user, and revokes every token they authorized: those stop working at once.</summary>
    public async Task DeleteAsync(Caller caller, string email, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        var user = await store.FindByEmailAsync(email.Trim().ToLowerInvariant(), cancellationToken) ?? throw NoSuchUser(email);
        await grants.RevokeForUserAsync(user.Id, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        await store.DeleteAsync(user.Id, cancellationToken);
    }

    /// <summary>
    /// Forgets every consent the user gave, revokes the tokens issued under them and ends the user's browser sign-ins:
    /// each client must ask again, after the user signs in again, before it gets a new token.
    /// </summary>
    public async Task<int> RevokeConsentsAsync(Caller caller, string email, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        var user = await store.FindByEmailAsync(email.Trim().ToLowerInvariant(), cancellationToken) ?? throw NoSuchUser(email);
        await grants.RevokeForUserAsync(user.Id, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        await store.EndLoginSessionsAsync(user.Id, cancellationToken);
        return await consents.RevokeAsync(user.Id, cancellationToken);
    }

    public async Task<SignIn> SignInAsync(string? email, string? password, CancellationToken cancellationToken)
    {
        var address = string.IsNullOrWhiteSpace(email) ? null : email.Trim().ToLowerInvariant();
        // A reservation lost to a concurrent attempt is retried on the count that attempt left.
        for (var tries = 0; address is not null && tries < 10; tries++)
        {
            var user = await store.FindByEmailAsync(address, cancellationToken);
            var now = time.GetUtcNow();
            if (user is null || IsLocked(user, now))
            {
                break;
            }
            if (!await store.ReserveLoginAttemptAsync(user.Id, user.FailedLogins, now.ToUnixTimeMilliseconds(), cancellationToken))
            {
                continue;
            }
            if (!PasswordHasher.Verify(password ?? "", user.PasswordHash))
            {
                return new SignIn(null);
            }
            await store.ClearFailedLoginsAsync(user.Id, cancellationToken);
            return new SignIn(user);
        }
        PasswordHasher.Verify(password ?? "", PasswordHasher.Decoy);
        return new SignIn(null);
    }

    public Task<IReadOnlyList<MembershipRow>> MembershipsAsync(string userId, CancellationToken cancellationToken) =>
        store.MembershipsAsync(userId, cancellationToken);

    public Task<UserRow?> FindAsync(string userId, CancellationToken cancellationToken) => store.FindAsync(userId, cancellationToken);

    private async Task<MembershipRow> MembershipAsync(string workspaceName, string? role, CancellationToken cancellationToken)
    {
        if (!WorkspaceName.IsValid(workspaceName))
        {
            throw ApiProblem.Invalid("workspace", "A workspace name is 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit.");
        }
        role ??= Roles.Member;
        if (!Roles.All.Contains(role))
        {
            throw ApiProblem.Invalid("role", $"Unknown role '{role}'. Roles: {string.Join(", ", Roles.All)}.");
        }
        var workspace = await workspaces.EnsureAsync(workspaceName, cancellationToken);
        return new MembershipRow { WorkspaceId = workspace.Id, WorkspaceName = workspace.Name, Role = role };
    }

    private static bool IsLocked(UserRow user, DateTimeOffset now)
    {
        if (user.FailedLogins < FreeFailures || user.LastFailedLoginAt is not { } last)
        {
            return false;
        }
        var delay = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, user.FailedLogins - FreeFailures + 1), MaxDelay.TotalSeconds));
        return DateTimeOffset.FromUnixTimeMilliseconds(last) + delay > now;
    }

    private static void RequireInstallationAdmin(Caller caller)
    {
        if (!caller.IsInstallationAdmin)
        {
            throw ApiProblem.Forbidden(ErrorCodes.WorkspaceMismatch, "Users are managed with an admin key of the 'default' workspace.");
        }
    }

    private static string ValidEmail(string? email)
    {
        var value = email?.Trim().ToLowerInvariant() ?? "";
        if (value.Length is 0 or > 254 || value.Any(char.IsControl) || !MailAddress.TryCreate(value, out var parsed)
            || !string.Equals(parsed.Address, value, StringComparison.Ordinal))
        {
            throw ApiProblem.Invalid("email", "An email address like ada@example.com is required.");
        }
        return value;
    }

    private static string ValidPassword(string? password)
    {
        if (password is null || password.Length < MinPasswordLength || password.Length > MaxPasswordLength)
        {
            throw ApiProblem.Invalid("password", $"A password is {MinPasswordLength} to {MaxPasswordLength} characters.");
        }
        return password;
    }

    private static ApiProblem NoSuchUser(string email) =>
        new(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "No such user.", $"There is no user '{email}'.");

    private static User ToContract(UserRow user, IReadOnlyList<MembershipRow> memberships) => new()
    {
        Id = user.Id,
        Email = user.Email,
        Memberships = [.. memberships.Select(m => new Membership(m.WorkspaceName, m.Role))],
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(user.CreatedAt),
    };
}
