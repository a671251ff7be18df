using Kennel.Contracts.ApiKeys;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Runs;

/// <summary><c>/v1/runs</c>: reading, waiting for and cancelling agent runs.</summary>
public static class RunEndpoints
{
    public static void MapRuns(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1/runs").RequireAuthorization(ScopePolicies.For(Scopes.Read));
        var chat = app.MapGroup("/v1/runs").RequireAuthorization(ScopePolicies.For(Scopes.Chat));

        read.MapGet("", async (HttpContext context, RunService runs, string? conversation, string? status, string? limit, string? cursor) =>
            TypedResults.Ok(await runs.ListAsync(Caller.From(context.User), conversation, status, Query.Int("limit", limit), cursor,
                context.RequestAborted)));

        // ?waitMs= waits for the run to end (up to that long) before answering.
        read.MapGet("/{id}", async (HttpContext context, RunService runs, string id, string? waitMs) =>
            TypedResults.Ok(await runs.WaitAsync(Caller.From(context.User), id, Query.Long("waitMs", waitMs) ?? 0, context.RequestAborted)));

        chat.MapPost("/{id}/cancel", async (HttpContext context, RunService runs, string id) =>
            TypedResults.Ok(await runs.CancelAsync(Caller.From(context.User), id, context.RequestAborted)));
    }
}
