using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Daemons;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Kennel.ControlPlane.Daemons;

public static class DaemonEndpoints
{
    public static void MapDaemonRoutes(IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1/daemons").RequireAuthorization(ScopePolicies.For(Scopes.Read));
        var write = app.MapGroup("/v1/daemons").RequireAuthorization(ScopePolicies.For(Scopes.Write));

        write.MapPost("", async (HttpContext context, DaemonService daemons) =>
        {
            var daemon = await daemons.CreateAsync(Caller.From(context.User), await JsonBody.ReadAsync<CreateDaemonRequest>(context.Request), context.RequestAborted);
            return TypedResults.Created($"/v1/daemons/{daemon.Name}", daemon);
        });

        read.MapGet("", async (HttpContext context, DaemonService daemons) =>
            TypedResults.Ok(await daemons.ListAsync(Caller.From(context.User), context.RequestAborted)));

        read.MapGet("/{name}", async (HttpContext context, DaemonService daemons, string name) =>
            TypedResults.Ok(await daemons.GetAsync(Caller.From(context.User), name, context.RequestAborted)));

        write.MapPatch("/{name}", async (HttpContext context, DaemonService daemons, string name) =>
            TypedResults.Ok(await daemons.UpdateAsync(Caller.From(context.User), name,
                await JsonBody.ReadAsync<UpdateDaemonRequest>(context.Request), context.RequestAborted)));

        write.MapDelete("/{name}", async (HttpContext context, DaemonService daemons, string name) =>
        {
            await daemons.DeleteAsync(Caller.From(context.User), name, context.RequestAborted);
            return TypedResults.NoContent();
        });

        write.MapPost("/{name}/pause", async (HttpContext context, DaemonService daemons, string name) =>
            TypedResults.Ok(await daemons.SetStatusAsync(Caller.From(context.User), name, DaemonValues.Paused, context.RequestAborted)));

        write.MapPost("/{name}/resume", async (HttpContext context, DaemonService daemons, string name) =>
            TypedResults.Ok(await daemons.SetStatusAsync(Caller.From(context.User), name, DaemonValues.Active, context.RequestAborted)));

        write.MapPost("/{name}/trigger", async (HttpContext context, DaemonService daemons, string name) =>
        {
            var request = context.Request.ContentLength is null or 0 && !context.Request.HasJsonContentType()
                ? new TriggerDaemonRequest()
                : await JsonBody.ReadAsync<TriggerDaemonRequest>(context.Request);
            return Answer(await daemons.TriggerAsync(Caller.From(context.User), name, request.Payload, context.RequestAborted));
        });

        // Public: the signature is the credential.
        app.MapPost("/v1/webhooks/{workspace}/{name}", ReceiveAsync).AllowAnonymous();
    }

    private static async Task<IResult> ReceiveAsync(HttpContext context, WebhookReceiver receiver, DaemonOptions options, string workspace, string name)
    {
        var body = await ReadBodyAsync(context, options.WebhookMaxBytes);
        var headers = context.Request.Headers;
        var result = await receiver.ReceiveAsync(workspace, name, header => headers.TryGetValue(header, out var value) ? value.ToString() : null,
            body, context.RequestAborted);
        return Answer(result);
    }

    /// <summary>202 with the session for a run that was started or queued; 200 for one the concurrency policy skipped.</summary>
    private static IResult Answer(DaemonTriggerResult result) => result.SessionId is { } id
        ? TypedResults.Accepted($"/v1/sessions/{id}", result)
        : TypedResults.Ok(result);

    /// <summary>The raw body (signatures are over its exact bytes), refused with 413 past the limit.</summary>
    internal static async Task<byte[]> ReadBodyAsync(HttpContext context, int limit)
    {
        var tooLarge = new ApiProblem(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge, "The webhook payload is too large.",
            $"A webhook payload may be at most {limit} bytes (KENNEL_WEBHOOK_MAX_BYTES).");
        if (context.Request.ContentLength > limit)
        {
            throw tooLarge;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit + 1L;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                throw tooLarge;
            }
        }
        return buffer.ToArray();
    }
}
