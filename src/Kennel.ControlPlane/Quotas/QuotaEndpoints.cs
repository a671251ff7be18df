using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Quotas;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Quotas;

/// <summary>
/// <c>/v1/workspaces/{name}/quota</c> (and <c>/v1/quota</c>, the caller's own): read with <c>mcp:read</c> (one's own
/// workspace; any for installation admins); set
/// with <c>mcp:admin</c> of <c>default</c>.
/// </summary>
public static class QuotaEndpoints
{
    public static void MapQuotas(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/quota", async (HttpContext context, QuotaService quotas) =>
            TypedResults.Ok(await quotas.GetAsync(Caller.From(context.User), Caller.From(context.User).WorkspaceName, context.RequestAborted)))
            .RequireAuthorization(ScopePolicies.For(Scopes.Read));

        app.MapGet("/v1/workspaces/{name}/quota", async (HttpContext context, QuotaService quotas, string name) =>
            TypedResults.Ok(await quotas.GetAsync(Caller.From(context.User), name, context.RequestAborted)))
            .RequireAuthorization(ScopePolicies.For(Scopes.Read));

        app.MapPut("/v1/workspaces/{name}/quota", async (HttpContext context, QuotaService quotas, string name) =>
            TypedResults.Ok(await quotas.SetAsync(Caller.From(context.User), name, await JsonBody.ReadAsync<SetQuotaRequest>(context.Request),
                context.RequestAborted)))
            .RequireAuthorization(ScopePolicies.For(Scopes.Admin));
    }
}
