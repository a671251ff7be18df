using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Conversations;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Runs;

namespace Kennel.ControlPlane.Conversations;

/// <summary><c>/v1/conversations</c>: conversations, their transcripts, and sending a message (a run).</summary>
public static class ConversationEndpoints
{
    public static void MapConversations(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1/conversations").RequireAuthorization(ScopePolicies.For(Scopes.Read));
        var write = app.MapGroup("/v1/conversations").RequireAuthorization(ScopePolicies.For(Scopes.Write));
        var chat = app.MapGroup("/v1/conversations").RequireAuthorization(ScopePolicies.For(Scopes.Chat));

        write.MapPost("", async (HttpContext context, ConversationService conversations) =>
        {
            var request = await JsonBody.ReadAsync<CreateConversationRequest>(context.Request);
            var created = await conversations.CreateAsync(Caller.From(context.User), request, context.RequestAborted);
            return TypedResults.Created($"/v1/conversations/{created.Id}", created);
        });

        read.MapGet("", async (HttpContext context, ConversationService conversations, string? agent, string? label, string? key, string? limit,
            string? cursor) =>
            TypedResults.Ok(await conversations.ListAsync(Caller.From(context.User), agent, label, key, Query.Int("limit", limit), cursor,
                context.RequestAborted)));

        read.MapGet("/{id}", async (HttpContext context, ConversationService conversations, string id) =>
            TypedResults.Ok(await conversations.GetAsync(Caller.From(context.User), id, context.RequestAborted)));

        write.MapPatch("/{id}", async (HttpContext context, ConversationService conversations, string id) =>
        {
            var request = await JsonBody.ReadAsync<UpdateConversationRequest>(context.Request);
            return TypedResults.Ok(await conversations.UpdateAsync(Caller.From(context.User), id, request, context.RequestAborted));
        });

        write.MapDelete("/{id}", async (HttpContext context, ConversationService conversations, string id, string? deleteTranscript) =>
            TypedResults.Ok(await conversations.DeleteAsync(Caller.From(context.User), id, Flag("deleteTranscript", deleteTranscript),
                context.RequestAborted)));

        read.MapGet("/{id}/messages", async (HttpContext context, ConversationService conversations, string id, string? limit, string? offset) =>
            TypedResults.Ok(await conversations.HistoryAsync(Caller.From(context.User), id, Query.Int("limit", limit), Query.Int("offset", offset),
                context.RequestAborted)));

        chat.MapPost("/{id}/messages", SendAsync);

        chat.MapPost("/{id}/abort", async (HttpContext context, RunService runs, string id) =>
            TypedResults.Ok(await runs.AbortAsync(Caller.From(context.User), id, context.RequestAborted)));
    }

    /// <summary>
    /// Sends a message. <c>{id}</c> is a conversation id, or a key such as <c>main</c> (made on first use, for
    /// <c>?agent=</c>, <c>main</c> by default). Waits up to <c>?waitMs=</c> for the answer; with
    /// <c>Accept: text/event-stream</c> it streams the run's progress as it happens and ends with the run.
    /// </summary>
    private static async Task SendAsync(HttpContext context, RunService runs, string id, string? agent, string? waitMs)
    {
        var caller = Caller.From(context.User);
        var wait = Query.Long("waitMs", waitMs);
        var request = await JsonBody.ReadAsync<SendMessageRequest>(context.Request);
        if (!context.Request.Headers.Accept.Any(value => value?.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase) == true))
        {
            var run = await runs.SendAsync(caller, id, agent, request.Message, wait, context.RequestAborted);
            context.Response.StatusCode = run.Status.IsTerminal() ? StatusCodes.Status200OK : StatusCodes.Status202Accepted;
            await context.Response.WriteAsJsonAsync(run, Contracts.KennelJson.Default.Run, cancellationToken: context.RequestAborted);
            return;
        }
        var started = await runs.StartAsync(caller, id, agent, request.Message, context.RequestAborted);
        await ServerSentEvents.StartAsync(context);
        await ServerSentEvents.WriteAsync(context, "run", started, Contracts.KennelJson.Default.Run);
        await foreach (var progress in runs.FollowAsync(caller, started.Id, context.RequestAborted))
        {
            await ServerSentEvents.WriteAsync(context, progress.Kind, progress, Contracts.KennelJson.Default.RunEvent);
        }
        await ServerSentEvents.WriteAsync(context, "run", await runs.GetAsync(caller, started.Id, context.RequestAborted),
            Contracts.KennelJson.Default.Run);
    }

    private static bool Flag(string name, string? value) => value switch
    {
        null or "false" => false,
        "true" => true,
        _ => throw ApiProblem.Invalid(name, $"{name} must be true or false."),
    };
}
