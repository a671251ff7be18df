using Kennel.Contracts.ApiKeys;
using Kennel.ControlPlane.Auth;

namespace Kennel.ControlPlane.Cost;

public static class CostEndpoints
{
    /// <summary><c>GET /v1/cost?from=&amp;to=&amp;groupBy=daemon|day</c>.</summary>
    public static void MapCost(IEndpointRouteBuilder app) =>
        app.MapGet("/v1/cost", async (HttpContext context, CostService cost, string? from, string? to, string? groupBy) =>
            TypedResults.Ok(await cost.SummarizeAsync(Caller.From(context.User), from, to, groupBy, context.RequestAborted)))
            .RequireAuthorization(ScopePolicies.For(Scopes.Read));
}
