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

        admin.MapPost("", async (HttpContext context, ServerService servers) =>
        {
            var server = await servers.AddAsync(Caller.From(context.User), await JsonBody.ReadAsync<AddServerRequest>(context.Request), context.RequestAborted);
            return TypedResults.Accepted($"/v1/servers/{server.Id}", server);
        });

        admin.MapGet("", async (HttpContext context, ServerService servers) =>
            TypedResults.Ok(await servers.ListAsync(Caller.From(context.User), context.RequestAborted)));

        admin.MapGet("/{id}", async (HttpContext context, ServerService servers, string id) =>
            TypedResults.Ok(await servers.GetAsync(Caller.From(context.User), id, context.RequestAborted)));

        admin.MapGet("/{id}/steps", async (HttpContext context, ServerService servers, string id) =>
            TypedResults.Ok(await servers.StepsAsync(Caller.From(context.User), id, context.RequestAborted)));

        admin.MapDelete("/{id}", async (HttpContext context, ServerService servers, string id) =>
            TypedResults.Ok(await servers.DeleteAsync(Caller.From(context.User), id, context.RequestAborted)));
    }
}

public static class ServerServices
{
    public static IServiceCollection AddServers(this IServiceCollection services, ServerOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<ServerStore>();
        services.AddSingleton<ServerLogin>();
        services.AddSingleton<ServerBootstrap>();
        services.AddSingleton<ServerRunner>();
        services.AddHostedService(provider => provider.GetRequiredService<ServerRunner>());
        services.AddSingleton<ServerService>();
        return services;
    }
}
