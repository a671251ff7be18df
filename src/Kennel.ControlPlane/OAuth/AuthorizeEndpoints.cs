using System.Threading.RateLimiting;
using Kennel.Contracts.Users;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Users;
using Kennel.Store;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// <c>GET /oauth/authorize</c> and the pages behind it: sign in (<c>POST /oauth/login</c>), then consent
/// (<c>POST /oauth/consent</c>), then a redirect to the client with a code, its state and the issuer.
/// </summary>
public static class AuthorizeEndpoints
{
    public static void MapAuthorize(this IEndpointRouteBuilder app)
    {
        // A browser shows these: a request they refuse at the edge (a NUL, an over-long form field) is a page too.
        var asPage = new ProblemFormat(problem => Pages.Error("This request is not valid", problem.Detail ?? problem.Title, problem.Status));
        app.MapGet("/oauth/authorize", async (HttpContext context, AuthorizeFlow flow) =>
            await flow.AuthorizeAsync(context, AuthorizationRequest.From(context.Request.Query))).WithMetadata(asPage);
        app.MapPost("/oauth/login", (HttpContext context, AuthorizeFlow flow) => flow.LoginAsync(context)).DisableAntiforgery().WithMetadata(asPage);
        app.MapPost("/oauth/consent", (HttpContext context, AuthorizeFlow flow) => flow.ConsentAsync(context)).DisableAntiforgery().WithMetadata(asPage);
    }
}

public sealed class AuthorizeFlow(
    AuthorizationValidator validator,
    LoginSessions sessions,
    UserService users,
    ConsentStore consents,
    GrantStore grants,
    OAuthOptions options,
    TimeProvider time) : IDisposable
{
    private readonly PartitionedRateLimiter<string> loginLimiter = PerAddress(options.LoginsPerMinute);

    public const string SignInFailed =
        "The email or password is wrong, or this account is locked for a while after repeated failed sign-ins. Check them, wait a minute, and try again.";

    /// <summary>
    /// The rate-limit bucket of a remote address: an IPv4 address itself, an IPv6 address by its /64 (what one host or
    /// site is usually given, so rotating through its addresses gains nothing).
    /// </summary>
    public static string PartitionKey(System.Net.IPAddress? address)
    {
        if (address is null)
        {
            return "";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new System.Net.IPAddress(bytes) + "/64";
    }

    public static PartitionedRateLimiter<string> PerAddress(int perMinute) => PartitionedRateLimiter.Create<string, string>(address =>
        perMinute <= 0
            ? RateLimitPartition.GetNoLimiter(address)
            : RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1) }));

    public async Task<IResult> AuthorizeAsync(HttpContext context, AuthorizationRequest request)
    {
        var (valid, refusal) = await ValidateAsync(request, context.RequestAborted);
        if (valid is null)
        {
            return refusal!;
        }
        var userId = await sessions.UserIdAsync(context);
        if (userId is null)
        {
            return Pages.Login(request, sessions.CsrfToken(context), valid.Client.Name, null);
        }
        return await ContinueAsync(context, valid, userId, chosenWorkspace: null, consentedScope: null);
    }

    public async Task<IResult> LoginAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            return NotAForm();
        }
        var form = await FormBody.ReadAsync(context.Request);
        var request = AuthorizationRequest.From(form);
        if (!sessions.IsGenuinePost(context, form))
        {
            return Pages.Error("Request refused", "This form did not come from Kennel's sign-in page (CSRF check failed). Start again from your application.", StatusCodes.Status403Forbidden);
        }
        var (valid, refusal) = await ValidateAsync(request, context.RequestAborted);
        if (valid is null)
        {
            return refusal!;
        }
        var csrf = sessions.CsrfToken(context);
        using var lease = loginLimiter.AttemptAcquire(PartitionKey(context.Connection.RemoteIpAddress));
        if (!lease.IsAcquired)
        {
            return Pages.Login(request, csrf, valid.Client.Name, "Too many sign-in attempts from this address. Wait a minute and try again.", StatusCodes.Status429TooManyRequests);
        }
        var signIn = await users.SignInAsync(form["email"].ToString(), form["password"].ToString(), context.RequestAborted);
        if (!signIn.Succeeded)
        {
            // One answer for an unknown email, a wrong password and an account locked after repeated failures.
            return Pages.Login(request, csrf, valid.Client.Name, SignInFailed, StatusCodes.Status401Unauthorized);
        }
        await sessions.StartAsync(context, signIn.User!.Id);
        // Back to /oauth/authorize on this server: the path is fixed and the query is the checked request.
        return Results.Redirect($"/oauth/authorize?{request.ToQuery()}", permanent: false, preserveMethod: false);
    }

    public async Task<IResult> ConsentAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            return NotAForm();
        }
        var form = await FormBody.ReadAsync(context.Request);
        if (!sessions.IsGenuinePost(context, form))
        {
            return Pages.Error("Request refused", "This form did not come from Kennel's consent page (CSRF check failed). Start again from your application.", StatusCodes.Status403Forbidden);
        }
        var request = AuthorizationRequest.From(form);
        var (valid, refusal) = await ValidateAsync(request, context.RequestAborted);
        if (valid is null)
        {
            return refusal!;
        }
        var userId = await sessions.UserIdAsync(context);
        if (userId is null)
        {
            return Pages.Login(request, sessions.CsrfToken(context), valid.Client.Name, "Your sign-in expired; sign in again.");
        }
        if (form["decision"] != "allow")
        {
            return RefuseTo(valid, "access_denied", "The user denied the request.");
        }
        return await ContinueAsync(context, valid, userId, form["workspace"].ToString(), form[Pages.ShownScopeField].ToString());
    }

    public void Dispose() => loginLimiter.Dispose();

    /// <summary>
    /// With a signed-in user: picks the workspace (the resource's, or one the user chooses), grants the asked scopes the
    /// user's role allows, and either asks for consent or (consented before, or just now) redirects with a code.
    /// <paramref name="consentedScope"/> is what the consent page the user answered showed (null before they answered):
    /// when the chosen workspace's role grants something else, the page is shown again for that workspace.
    /// </summary>
    private async Task<IResult> ContinueAsync(HttpContext context, ValidAuthorization valid, string userId, string? chosenWorkspace, string? consentedScope)
    {
        var decided = consentedScope is not null;
        var memberships = await users.MembershipsAsync(userId, context.RequestAborted);
        var eligible = valid.Workspace is { } fixedWorkspace
            ? [.. memberships.Where(m => m.WorkspaceName == fixedWorkspace)]
            : memberships;
        if (eligible.Count == 0)
        {
            return RefuseTo(valid, "access_denied", valid.Workspace is null
                ? "The user is not a member of any workspace."
                : $"The user is not a member of the workspace '{valid.Workspace}'.");
        }
        var membership = eligible.Count == 1 && !decided ? eligible[0] : eligible.FirstOrDefault(m => m.WorkspaceName == chosenWorkspace);
        var granted = valid.Scopes.Where(s => Roles.GrantableScopes((membership ?? eligible[0]).Role).Contains(s)).ToHashSet(StringComparer.Ordinal);
        if (membership is not null && granted.Count == 0)
        {
            return RefuseTo(valid, "access_denied", $"The user's role in '{membership.WorkspaceName}' allows none of the scopes asked for.");
        }
        var scope = OAuthScopes.Format(granted);
        var refused = valid.Scopes.Except(granted).ToHashSet(StringComparer.Ordinal);
        if (membership is not null && decided && consentedScope != scope)
        {
            return Pages.Consent(valid, sessions.CsrfToken(context), [membership.WorkspaceName], granted, refused);
        }
        // A public or loopback-redirect client can be impersonated by any app that claims its id (RFC 8252 section 8.6):
        // its remembered consent does not skip the page, the user clicks Allow each time.
        if (membership is not null && (decided || (!valid.Client.RequiresPkce(valid.RedirectUri) && await consents.ExistsAsync(userId, valid.Client.Id, membership.WorkspaceId, valid.Resource, scope, context.RequestAborted))))
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            if (decided)
            {
                await consents.RememberAsync(userId, valid.Client.Id, membership.WorkspaceId, valid.Resource, scope, now, context.RequestAborted);
            }
            var code = OAuthSecrets.New();
            var grant = new GrantRow
            {
                Id = SortableId.New("grt", time),
                ClientId = valid.Client.Id,
                UserId = userId,
                WorkspaceId = membership.WorkspaceId,
                WorkspaceName = membership.WorkspaceName,
                Resource = valid.Resource,
                Scope = scope,
                CreatedAt = now,
            };
            await grants.CreateWithCodeAsync(grant, OAuthSecrets.Hash(code), valid.RedirectUri, valid.CodeChallenge,
                now + (long)options.CodeLifetime.TotalMilliseconds, context.RequestAborted);
            return Results.Redirect(validator.RedirectTo(valid.RedirectUri, valid.Request.State, ("code", code)), permanent: false, preserveMethod: false);
        }
        return Pages.Consent(valid, sessions.CsrfToken(context), [.. eligible.Select(m => m.WorkspaceName)], granted, refused);
    }

    private async Task<(ValidAuthorization? Valid, IResult? Refusal)> ValidateAsync(AuthorizationRequest request, CancellationToken cancellationToken)
    {
        var (valid, refusal, _, redirectUri) = await validator.ValidateAsync(request, cancellationToken);
        if (valid is not null)
        {
            return (valid, null);
        }
        return (null, refusal!.Redirect
            ? Results.Redirect(validator.RedirectTo(redirectUri!, request.State, ("error", refusal.Error), ("error_description", refusal.Description)))
            : Pages.Error("This sign-in request is not valid", refusal.Description, StatusCodes.Status400BadRequest));
    }

    private static IResult NotAForm() =>
        Pages.Error("Request refused", "Submit the page's form (application/x-www-form-urlencoded).", StatusCodes.Status400BadRequest);

    private IResult RefuseTo(ValidAuthorization valid, string error, string description) =>
        Results.Redirect(validator.RedirectTo(valid.RedirectUri, valid.Request.State, ("error", error), ("error_description", description)));
}
