using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Config;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Config;

/// <summary>
/// <c>/v1/config</c>: read with <c>mcp:read</c> (<c>GET ?path=</c>, the versions, the schema); write with <c>mcp:write</c>
/// (<c>PATCH</c> one path, <c>PUT</c> the whole document, <c>POST /rollback</c>).
/// </summary>
public static class ConfigEndpoints
{
    public static void MapConfig(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1/config").RequireAuthorization(ScopePolicies.For(Scopes.Read));
        var write = app.MapGroup("/v1/config").RequireAuthorization(ScopePolicies.For(Scopes.Write));

        read.MapGet("", async (HttpContext context, ConfigService config, string? path) =>
            TypedResults.Ok(await config.GetAsync(Caller.From(context.User), path, context.RequestAborted)));

        read.MapGet("/schema", () => TypedResults.Text(ConfigSchema.Text, "application/schema+json"));

        read.MapGet("/versions", async (HttpContext context, ConfigService config, string? before, string? limit) =>
            TypedResults.Ok(await config.VersionsAsync(Caller.From(context.User), Query.Long("before", before), Query.Int("limit", limit),
                context.RequestAborted)));

        read.MapGet("/versions/{version:long}", async (HttpContext context, ConfigService config, long version) =>
            TypedResults.Ok(await config.VersionAsync(Caller.From(context.User), version, context.RequestAborted)));

        write.MapPatch("", async (HttpContext context, ConfigService config) =>
            TypedResults.Ok(await config.SetAsync(Caller.From(context.User), await JsonBody.ReadAsync<SetConfigRequest>(context.Request),
                wholeDocument: false, context.RequestAborted)));

        write.MapPut("", async (HttpContext context, ConfigService config) =>
            TypedResults.Ok(await config.SetAsync(Caller.From(context.User), await JsonBody.ReadAsync<SetConfigRequest>(context.Request),
                wholeDocument: true, context.RequestAborted)));

        write.MapPost("/rollback", async (HttpContext context, ConfigService config) =>
            TypedResults.Ok(await config.RollbackAsync(Caller.From(context.User), await JsonBody.ReadAsync<RollbackConfigRequest>(context.Request),
                context.RequestAborted)));
    }
}
