using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Sessions;

public static class SessionEndpoints
{
    public static void MapSessions(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1/sessions").RequireAuthorization(ScopePolicies.For(Scopes.Read));
        var write = app.MapGroup("/v1/sessions").RequireAuthorization(ScopePolicies.For(Scopes.Write));

        write.MapPost("", async (HttpContext context, SessionService sessions) =>
        {
            var request = await JsonBody.ReadAsync<CreateSessionRequest>(context.Request);
            var session = await sessions.CreateAsync(Caller.From(context.User), request, context.RequestAborted);
            return TypedResults.Accepted($"/v1/sessions/{session.Id}", session);
        });

        read.MapGet("", async (HttpContext context, SessionService sessions, string? status, string? limit, string? cursor) =>
            TypedResults.Ok(await sessions.ListAsync(Caller.From(context.User), status, Query.Int("limit", limit), cursor, context.RequestAborted)));

        read.MapGet("/{id}", async (HttpContext context, SessionService sessions, string id) =>
            TypedResults.Ok(await sessions.GetAsync(Caller.From(context.User), id, context.RequestAborted)));

        write.MapPost("/{id}/cancel", async (HttpContext context, SessionService sessions, string id) =>
            TypedResults.Accepted($"/v1/sessions/{id}", await sessions.CancelAsync(Caller.From(context.User), id, context.RequestAborted)));

        read.MapGet("/{id}/wait", async (HttpContext context, SessionService sessions, string id, string? timeoutMs) =>
            TypedResults.Ok(await sessions.WaitAsync(Caller.From(context.User), id, Query.Long("timeoutMs", timeoutMs), context.RequestAborted)));

        read.MapGet("/{id}/stream", StreamAsync);
    }

    /// <summary>
    /// Server-sent events: <c>output</c> events carry <c>{stream, data}</c> as the workload writes, then one <c>session</c>
    /// event carries the final session. The CLI's <c>session run</c> follows this.
    /// </summary>
    private static async Task StreamAsync(HttpContext context, SessionService sessions, string id)
    {
        var caller = Caller.From(context.User);
        _ = await sessions.GetAsync(caller, id, context.RequestAborted); // 404 before any event is sent
        await ServerSentEvents.StartAsync(context);
        await foreach (var output in sessions.FollowAsync(caller, id, context.RequestAborted))
        {
            await ServerSentEvents.WriteAsync(context, "output", output, KennelJson.Default.SessionOutputEvent);
        }
        var final = await sessions.GetAsync(caller, id, context.RequestAborted);
        await ServerSentEvents.WriteAsync(context, "session", final, KennelJson.Default.Session);
    }
}
