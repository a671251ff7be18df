using System.Security.Claims;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Mcp.AgentTools;
using Kennel.ControlPlane.OAuth;
using Kennel.Mcp;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp;

/// <summary>
/// The agent endpoint at <c>/w/{workspace}/mcp</c>: one workspace's agents, with seed 004's tool names, scopes and error
/// JSON (<see cref="AgentToolRegistry"/>), and no fleet tool. It is stateless (no <c>Mcp-Session-Id</c>; any replica
/// answers any request), and a POST whose answer streams nothing gets one <c>application/json</c> body. A credential of
/// another workspace, or a token issued for another endpoint, is refused before the MCP transport sees the request.
/// </summary>
public static class AgentMcp
{
    public const string Path = "/w/{workspace}/mcp";

    internal static void MapAgentMcp(this IEndpointRouteBuilder app, AuthorizationPolicy credential, McpRateLimitPolicy rateLimit)
    {
        var policy = new AuthorizationPolicyBuilder(credential)
            .RequireAssertion(context => context.Resource is HttpContext http
                && string.Equals(http.GetRouteValue("workspace") as string, context.User.FindFirstValue(Caller.WorkspaceNameClaim), StringComparison.Ordinal))
            .Build();
        app.MapMcpEndpoint(Path, Endpoint(app.ServiceProvider)).RequireAuthorization(policy).RequireRateLimiting(rateLimit)
            .WithMetadata(new ProtectedResourceEndpoint());
        app.MapGet($"{Path}/health", FleetMcp.HealthAsync);
    }

    private static McpEndpoint Endpoint(IServiceProvider services)
    {
        var tools = new Lazy<McpServerPrimitiveCollection<McpServerTool>>(() => [.. AgentToolRegistry.Tools(services)]);
        var guard = new ToolGuard(FleetMcp.HasScope, (_, _) => null, FleetMcp.Translate, services.GetRequiredService<ILoggerFactory>().CreateLogger("Kennel.Mcp.Agent"));
        return new McpEndpoint
        {
            Stateless = true,
            OwnerOf = FleetMcp.Owner,
            Tools = () => tools.Value,
            Guard = guard,
            ConfigureServer = server =>
            {
                server.ServerInfo = new Implementation { Name = "kennel-agents", Title = "Kennel agents", Version = HealthEndpoints.Version };
                server.ServerInstructions =
                    "Kennel hosts this workspace's AI agents. agents_list and models_list show the agents and the models they can use; " +
                    "config_get and config_set read and change the workspace's settings (agents, providers, models); status tells whether " +
                    "the store, the workers and each model provider are working; usage_cost and sessions_usage show tokens and cost.";
                server.Filters.Request.CallToolFilters.Add(next => (context, cancellationToken) =>
                {
                    var collection = context.Server.ServerOptions.ToolCollection;
                    var name = context.Params?.Name ?? "";
                    // The guard answers unknown tools and missing scopes first; then the arguments are checked against the schema.
                    return guard.Refuse(collection, name, context.User) is null && collection!.TryGetPrimitive(name, out var tool)
                        && ToolArguments.Check(name, tool.ProtocolTool.InputSchema, context.Params?.Arguments) is { } failure
                        ? ValueTask.FromResult(failure.ToResult())
                        : next(context, cancellationToken);
                });
            },
            StepUp = new McpStepUp(user => user.FindFirst(Caller.UserIdClaim) is not null, (context, missing) => FleetMcp.StepUpAsync(services, context, missing)),
        };
    }
}
