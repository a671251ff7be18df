using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Users;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Users;

/// <summary><c>/v1/users</c>: installation admins (an mcp:admin key of the default workspace) manage accounts.</summary>
public static class UserEndpoints
{
    public static void MapUsers(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/users").RequireAuthorization(ScopePolicies.For(Scopes.Admin));

        group.MapPost("", async (HttpContext context, UserService users) =>
        {
            var request = await JsonBody.ReadAsync<CreateUserRequest>(context.Request);
            var created = await users.CreateAsync(Caller.From(context.User), request, context.RequestAborted);
            return TypedResults.Created($"/v1/users/{Uri.EscapeDataString(created.Email)}", created);
        });

        group.MapGet("", async (HttpContext context, UserService users) =>
            TypedResults.Ok(await users.ListAsync(Caller.From(context.User), context.RequestAborted)));

        group.MapPost("/{email}/password", async (HttpContext context, UserService users, string email) =>
        {
            var request = await JsonBody.ReadAsync<ChangePasswordRequest>(context.Request);
            return TypedResults.Ok(await users.SetPasswordAsync(Caller.From(context.User), email, request, context.RequestAborted));
        });

        group.MapPost("/{email}/memberships", async (HttpContext context, UserService users, string email) =>
        {
            var request = await JsonBody.ReadAsync<SetRoleRequest>(context.Request);
            return TypedResults.Ok(await users.SetRoleAsync(Caller.From(context.User), email, request, context.RequestAborted));
        });

        group.MapDelete("/{email}/consents", async (HttpContext context, UserService users, string email) =>
        {
            await users.RevokeConsentsAsync(Caller.From(context.User), email, context.RequestAborted);
            return TypedResults.NoContent();
        });

        group.MapDelete("/{email}", async (HttpContext context, UserService users, string email) =>
        {
            await users.DeleteAsync(Caller.From(context.User), email, context.RequestAborted);
            return TypedResults.NoContent();
        });
    }
}
