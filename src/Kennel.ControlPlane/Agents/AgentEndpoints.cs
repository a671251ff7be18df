using Kennel.Contracts.ApiKeys;
using Kennel.ControlPlane.Auth;

namespace Kennel.ControlPlane.Agents;

/// <summary><c>/v1/models</c> and <c>/v1/agents</c>: the workspace's catalogue and agents, with <c>mcp:read</c>.</summary>
public static class AgentEndpoints
{
    public static void MapAgents(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1").RequireAuthorization(ScopePolicies.For(Scopes.Read));
        read.MapGet("/models", async (HttpContext context, AgentService agents) =>
            TypedResults.Ok(await agents.ListModelsAsync(Caller.From(context.User), context.RequestAborted)));
        read.MapGet("/agents", async (HttpContext context, AgentService agents) =>
            TypedResults.Ok(await agents.ListAgentsAsync(Caller.From(context.User), context.RequestAborted)));
    }
}
