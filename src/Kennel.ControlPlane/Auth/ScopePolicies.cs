using Kennel.Contracts.ApiKeys;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.OAuth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Kennel.ControlPlane.Auth;

/// <summary>
/// One authorization policy per scope, plus one for workers. Endpoints name the scope they need. The policies name no
/// authentication scheme: Bearer is the only one and the default, which the authentication middleware has already run
/// for the request (a policy naming it would run it again and build the request's user anew, on every request).
/// </summary>
public static class ScopePolicies
{
    public const string Worker = "worker";

    public static string For(string scope) => $"scope:{scope}";

    public static void AddKennelPolicies(this AuthorizationOptions options)
    {
        foreach (var scope in Scopes.All)
        {
            options.AddPolicy(For(scope), policy => policy
                .RequireAuthenticatedUser()
                .AddRequirements(new ScopeRequirement(scope)));
        }
        options.AddPolicy(Worker, policy => policy
            .RequireClaim(BearerAuthenticationHandler.WorkerIdClaim));
    }
}

public sealed class ScopeRequirement(string scope) : AuthorizationHandler<ScopeRequirement>, IAuthorizationRequirement
{
    public string Scope { get; } = scope;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        if (context.User.HasClaim(Caller.ScopeClaim, requirement.Scope))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}

/// <summary>Answers failed authorization with problem details: 401 to prove who you are, 403 naming the missing scope.</summary>
public sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler fallback = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Challenged)
        {
            var presented = context.Request.Headers.Authorization.Count > 0;
            var detail = presented ? "The credential is unknown, malformed, expired, revoked or for another endpoint." : "Send 'Authorization: Bearer <API key>'.";
            await ProblemMiddleware.WriteAsync(context, ApiProblem.Unauthorized(detail), McpChallenge(context, presented));
            return;
        }
        if (authorizeResult.Forbidden)
        {
            var missing = policy.Requirements.OfType<ScopeRequirement>().Select(r => r.Scope).ToList();
            var scopes = string.Join(' ', missing);
            await ProblemMiddleware.WriteAsync(context,
                ApiProblem.Forbidden(ErrorCodes.InsufficientScope, missing.Count > 0 ? $"Missing scopes: {scopes}" : "This credential may not call this endpoint."),
                missing.Count > 0 ? $"Bearer error=\"insufficient_scope\", scope=\"{scopes}\"" : null);
            return;
        }
        await fallback.HandleAsync(next, context, policy, authorizeResult);
    }

    /// <summary>
    /// On an MCP endpoint, a 401 tells an OAuth client where to start (MCP authorization, RFC 9728 section 5.1): the
    /// endpoint's protected resource metadata, and the scopes a token gets by default.
    /// </summary>
    private static string? McpChallenge(HttpContext context, bool presented)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<ProtectedResourceEndpoint>() is null)
        {
            return null;
        }
        var error = presented ? "error=\"invalid_token\", " : "";
        return $"Bearer {error}resource_metadata=\"{ResourceMetadataUrl(context)}\", scope=\"{OAuthScopes.Default}\"";
    }

    /// <summary>
    /// The metadata URL of the MCP endpoint asked for, built from a validated workspace name only (the decoded path may
    /// hold quotes and commas that would add parameters to the header); anything else gets the fleet endpoint's.
    /// </summary>
    public static string ResourceMetadataUrl(HttpContext context)
    {
        var issuer = context.RequestServices.GetRequiredService<OAuthIssuer>();
        var path = context.Request.Path.Value ?? "";
        var endpoint = path.Length <= 200 && issuer.ParseResource(issuer.ResourceFor(path)) is { } parsed ? parsed.Path : OAuthIssuer.FleetPath;
        return issuer.MetadataUrlFor(endpoint);
    }
}
