using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Cron;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Cron;

/// <summary><c>/v1/cron</c>: the workspace's cron jobs and their runs, as the agent endpoint's cron tools see them.</summary>
public static class CronEndpoints
{
    public static void MapCron(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1/cron").RequireAuthorization(ScopePolicies.For(Scopes.Read));
        var write = app.MapGroup("/v1/cron").RequireAuthorization(ScopePolicies.For(Scopes.Write));

        write.MapPost("", async (HttpContext context, CronService cron) =>
        {
            var created = await cron.AddAsync(Caller.From(context.User), await JsonBody.ReadAsync<CreateCronJobRequest>(context.Request), context.RequestAborted);
            return TypedResults.Created($"/v1/cron/{created.Job.Id}", created);
        });

        read.MapGet("", async (HttpContext context, CronService cron, string? enabled, string? limit, string? cursor) =>
            TypedResults.Ok(await cron.ListAsync(Caller.From(context.User), enabled, Query.Int("limit", limit), cursor, context.RequestAborted)));

        read.MapGet("/runs", async (HttpContext context, CronService cron, string? job, string? status, string? limit, string? cursor) =>
            TypedResults.Ok(await cron.RunsAsync(Caller.From(context.User), job, status, Query.Int("limit", limit), cursor, context.RequestAborted)));

        read.MapGet("/{job}", async (HttpContext context, CronService cron, string job) =>
            TypedResults.Ok(await cron.GetAsync(Caller.From(context.User), job, context.RequestAborted)));

        read.MapGet("/{job}/runs", async (HttpContext context, CronService cron, string job, string? status, string? limit, string? cursor) =>
            TypedResults.Ok(await cron.RunsAsync(Caller.From(context.User), job, status, Query.Int("limit", limit), cursor, context.RequestAborted)));

        write.MapPatch("/{job}", async (HttpContext context, CronService cron, string job) =>
            TypedResults.Ok(await cron.UpdateAsync(Caller.From(context.User), job, await JsonBody.ReadAsync<UpdateCronJobRequest>(context.Request),
                context.RequestAborted)));

        write.MapDelete("/{job}", async (HttpContext context, CronService cron, string job) =>
            TypedResults.Ok(await cron.RemoveAsync(Caller.From(context.User), job, context.RequestAborted)));

        write.MapPost("/{job}/run", async (HttpContext context, CronService cron, string job) =>
        {
            var run = await cron.RunAsync(Caller.From(context.User), job, context.RequestAborted);
            return TypedResults.Accepted($"/v1/cron/runs?job={run.JobId}", run);
        });
    }
}
