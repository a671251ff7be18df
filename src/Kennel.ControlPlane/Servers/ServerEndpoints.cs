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

        admin.MapPost("/ec2", async (HttpContext context, ServerService servers) =>
        {
            var server = await servers.AddEc2Async(Caller.From(context.User), await JsonBody.ReadAsync<AddServerEc2Request>(context.Request), context.RequestAborted);
            return TypedResults.Accepted($"/v1/servers/{server.Id}", server);
        });

        admin.MapGet("", async (HttpContext context, ServerService servers) =>
            TypedResults.Ok(await servers.ListAsync(Caller.From(context.User), context.RequestAborted)));

        admin.MapGet("/{id}", async (HttpContext context, ServerService servers, string id) =>
            TypedResults.Ok(await servers.GetAsync(Caller.From(context.User), id, context.RequestAborted)));

        admin.MapGet("/{id}/steps", async (HttpContext context, ServerService servers, string id) =>
            TypedResults.Ok(await servers.StepsAsync(Caller.From(context.User), id, context.RequestAborted)));

        // 200 with the server as it was when it is gone at once; 202 while it drains (GET it until 404 to see it go).
        admin.MapDelete("/{id}", async (HttpContext context, ServerService servers, string id) =>
        {
            var server = await servers.DeleteAsync(Caller.From(context.User), id, QueryFlag(context, "skipDrain"), QueryInt(context, "graceSeconds"),
                context.RequestAborted);
            return server.Status is ServerStatuses.Draining or ServerStatuses.Deleting
                ? Results.Accepted($"/v1/servers/{server.Id}", server)
                : Results.Ok(server);
        });
    }

    private static bool QueryFlag(HttpContext context, string name) => context.Request.Query[name].ToString() switch
    {
        "" or "false" => false,
        "true" => true,
        _ => throw ApiProblem.Invalid(name, $"{name} is true or false."),
    };

    private static int? QueryInt(HttpContext context, string name) => context.Request.Query[name].ToString() switch
    {
        "" => null,
        var text => int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw ApiProblem.Invalid(name, $"{name} is a whole number of seconds."),
    };
}

public static class ServerServices
{
    public static IServiceCollection AddServers(this IServiceCollection services, ServerOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<ServerStore>();
        services.AddSingleton<ServerLogin>();
        services.AddSingleton<ServerBootstrap>();
        services.AddSingleton<ServerRemoval>();
        services.AddSingleton<Ec2.Ec2CredentialStore>();
        services.AddSingleton<Ec2.Ec2Launch>();
        services.AddSingleton<ServerRunner>();
        services.AddHostedService(provider => provider.GetRequiredService<ServerRunner>());
        services.AddSingleton<ServerService>();
        return services;
    }
}
