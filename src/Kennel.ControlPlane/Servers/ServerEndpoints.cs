using Microsoft.Extensions.DependencyInjection;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Servers;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Servers;

/// <summary><c>/v1/servers</c>, for installation admins (<c>mcp:admin</c> of the <c>default</c> workspace).</summary>
public static class ServerEndpoints
{
    public static void MapServers(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/v1/servers").RequireAuthorization(ScopePolicies.For(Scopes.Admin));

        admin.MapPost("/test", async (HttpContext context, ServerService servers) =>
            TypedResults.Ok(await servers.TestConnectionAsync(Caller.From(context.User),
                await JsonBody.ReadAsync<TestConnectionRequest>(context.Request), context.RequestAborted)));
    }
}

public static class ServerServices
{
    public static IServiceCollection AddServers(this IServiceCollection services)
    {
        services.AddSingleton<ServerStore>();
        services.AddSingleton<ServerService>();
        return services;
    }
}
