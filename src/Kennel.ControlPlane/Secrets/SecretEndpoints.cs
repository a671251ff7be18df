using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Secrets;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kennel.ControlPlane.Secrets;

/// <summary><c>/v1/secrets</c>: set and delete with <c>mcp:write</c>; list names with <c>mcp:read</c>. No route returns a value.</summary>
public static class SecretEndpoints
{
    public static void MapSecrets(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1/secrets").RequireAuthorization(ScopePolicies.For(Scopes.Read));
        var write = app.MapGroup("/v1/secrets").RequireAuthorization(ScopePolicies.For(Scopes.Write));

        write.MapPut("/{name}", async Task<Results<Created<Secret>, Ok<Secret>>> (HttpContext context, SecretService secrets, string name) =>
        {
            var (secret, created) = await secrets.SetAsync(Caller.From(context.User), name, await JsonBody.ReadAsync<SetSecretRequest>(context.Request),
                context.RequestAborted);
            return created ? TypedResults.Created($"/v1/secrets/{secret.Name}", secret) : TypedResults.Ok(secret);
        });

        read.MapGet("", async (HttpContext context, SecretService secrets) =>
            TypedResults.Ok(await secrets.ListAsync(Caller.From(context.User), context.RequestAborted)));

        write.MapDelete("/{name}", async (HttpContext context, SecretService secrets, string name) =>
        {
            await secrets.DeleteAsync(Caller.From(context.User), name, context.RequestAborted);
            return TypedResults.NoContent();
        });
    }
}
