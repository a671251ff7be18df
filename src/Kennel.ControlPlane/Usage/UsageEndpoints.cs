using Kennel.Contracts.ApiKeys;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Usage;

/// <summary>
/// <c>GET /v1/usage?period=&amp;from=&amp;to=&amp;groupBy=day|model|agent</c> and <c>GET /v1/usage/conversations?period=&amp;from=&amp;to=&amp;conversationId=&amp;limit=</c>,
/// with <c>mcp:read</c>.
/// </summary>
public static class UsageEndpoints
{
    public static void MapUsage(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1/usage").RequireAuthorization(ScopePolicies.For(Scopes.Read));
        read.MapGet("", async (HttpContext context, UsageService usage, string? period, string? from, string? to, string? groupBy) =>
            TypedResults.Ok(await usage.CostAsync(Caller.From(context.User), period, from, to, groupBy, context.RequestAborted)));
        read.MapGet("/conversations", async (HttpContext context, UsageService usage, string? period, string? from, string? to, string? conversationId,
            string? limit) =>
            TypedResults.Ok(await usage.ConversationsAsync(Caller.From(context.User), period, from, to, conversationId, Query.Int("limit", limit),
                context.RequestAborted)));
    }
}
