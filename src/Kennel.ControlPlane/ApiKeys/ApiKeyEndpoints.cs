using Kennel.Contracts.ApiKeys;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.ApiKeys;

public static class ApiKeyEndpoints
{
    public static void MapApiKeys(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/apikeys").RequireAuthorization(ScopePolicies.For(Scopes.Admin));

        group.MapPost("", async (HttpContext context, ApiKeyService keys) =>
        {
            var request = await JsonBody.ReadAsync<CreateApiKeyRequest>(context.Request);
            var created = await keys.CreateAsync(Caller.From(context.User), request, context.RequestAborted);
            return TypedResults.Created($"/v1/apikeys/{created.ApiKey.Id}", created);
        });

        group.MapGet("", async (HttpContext context, ApiKeyService keys, string? workspace) =>
            TypedResults.Ok(await keys.ListAsync(Caller.From(context.User), workspace, context.RequestAborted)));

        group.MapPost("/{id}/revoke", async (HttpContext context, ApiKeyService keys, string id, string? workspace) =>
            TypedResults.Ok(await keys.RevokeAsync(Caller.From(context.User), id, workspace, context.RequestAborted)));
    }
}
