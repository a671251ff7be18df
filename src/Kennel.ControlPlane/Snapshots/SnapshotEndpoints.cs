using System.Text;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Snapshots;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Snapshots;

/// <summary>
/// <c>/v1/snapshots</c>: build (202), list, get (with the log), follow the log live, delete; and tags: set, history,
/// rollback. Reading takes <c>mcp:read</c>, the rest <c>mcp:write</c>.
/// </summary>
public static class SnapshotEndpoints
{
    private static readonly TimeSpan FollowInterval = TimeSpan.FromMilliseconds(500);

    public static void MapSnapshots(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1/snapshots").RequireAuthorization(ScopePolicies.For(Scopes.Read));
        var write = app.MapGroup("/v1/snapshots").RequireAuthorization(ScopePolicies.For(Scopes.Write));

        write.MapPost("", async (HttpContext context, SnapshotService snapshots) =>
        {
            var build = await snapshots.BuildAsync(Caller.From(context.User), await JsonBody.ReadAsync<BuildSnapshotRequest>(context.Request),
                context.RequestAborted);
            return TypedResults.Accepted($"/v1/snapshots/{build.Id}", build);
        });

        read.MapGet("", async (HttpContext context, SnapshotService snapshots) =>
            TypedResults.Ok(await snapshots.ListAsync(Caller.From(context.User), context.RequestAborted)));

        read.MapGet("/{id}", async (HttpContext context, SnapshotService snapshots, string id) =>
            TypedResults.Ok(await snapshots.GetAsync(Caller.From(context.User), id, context.RequestAborted)));

        // The log as plain text; with follow=true it streams while the build runs and ends when the build does.
        read.MapGet("/{id}/log", async (HttpContext context, SnapshotService snapshots, TimeProvider time, string id, bool? follow) =>
        {
            var caller = Caller.From(context.User);
            var (text, ended, _) = await snapshots.ReadLogAsync(caller, id, 0, context.RequestAborted);
            context.Response.ContentType = "text/plain; charset=utf-8";
            context.Response.Headers.CacheControl = "no-store";
            await context.Response.WriteAsync(text, context.RequestAborted);
            var offset = text.Length;
            while (follow == true && !ended)
            {
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(FollowInterval, time, context.RequestAborted);
                (text, ended, _) = await snapshots.ReadLogAsync(caller, id, offset, context.RequestAborted);
                offset += text.Length;
                await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), context.RequestAborted);
            }
        });

        write.MapDelete("/{id}", async (HttpContext context, SnapshotService snapshots, string id) =>
        {
            await snapshots.DeleteAsync(Caller.From(context.User), id, context.RequestAborted);
            return TypedResults.NoContent();
        });

        read.MapGet("/tags/{name}/{tag}", async (HttpContext context, SnapshotService snapshots, string name, string tag) =>
            TypedResults.Ok(await snapshots.HistoryAsync(Caller.From(context.User), name, tag, context.RequestAborted)));

        write.MapPut("/tags/{name}/{tag}", async (HttpContext context, SnapshotService snapshots, string name, string tag) =>
            TypedResults.Ok(await snapshots.TagAsync(Caller.From(context.User), name, tag, await JsonBody.ReadAsync<TagSnapshotRequest>(context.Request),
                context.RequestAborted)));

        write.MapPost("/tags/{name}/{tag}/rollback", async (HttpContext context, SnapshotService snapshots, string name, string tag) =>
            TypedResults.Ok(await snapshots.RollbackAsync(Caller.From(context.User), name, tag, context.RequestAborted)));
    }
}
