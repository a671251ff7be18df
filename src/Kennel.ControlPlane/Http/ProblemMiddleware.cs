using System.Text.Json;
using Kennel.Contracts;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Http;

/// <summary>
/// Turns every failure into problem details. An unexpected exception is logged here once, and the client sees only
/// <c>internal_error</c>: no stack trace or exception text ever leaves the server.
/// </summary>
public sealed partial class ProblemMiddleware(RequestDelegate next, ILogger<ProblemMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (ApiProblem problem)
        {
            await WriteAsync(context, problem);
        }
        catch (BadHttpRequestException badRequest) when (badRequest.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteAsync(context, new ApiProblem(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge,
                "The request body is too large.", "Send a smaller body; the limit is set by KENNEL_MAX_BODY_BYTES."));
        }
        catch (BadHttpRequestException badRequest)
        {
            await WriteAsync(context, new ApiProblem(badRequest.StatusCode, ErrorCodes.InvalidRequest, "The request could not be read."));
        }
        catch (JsonException json)
        {
            await WriteAsync(context, new ApiProblem(StatusCodes.Status400BadRequest, ErrorCodes.InvalidJson,
                "The request body is not valid JSON for this endpoint.", JsonDetail(json), JsonField(json)));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is no one left to answer.
        }
        catch (Exception exception)
        {
            LogUnhandled(logger, exception, context.Request.Method, context.Request.Path);
            await WriteAsync(context, new ApiProblem(StatusCodes.Status500InternalServerError, ErrorCodes.InternalError,
                "An internal error occurred.", $"Trace id {context.TraceIdentifier}; the server log has the cause."));
        }
    }

    public static async Task WriteAsync(HttpContext context, ApiProblem problem, string? wwwAuthenticate = null)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }
        context.Response.Clear();
        if (context.GetEndpoint()?.Metadata.GetMetadata<ProblemFormat>() is { } format)
        {
            await format.Answer(problem).ExecuteAsync(context);
            return;
        }
        context.Response.StatusCode = problem.Status;
        if (wwwAuthenticate is not null || problem.Status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = wwwAuthenticate ?? "Bearer";
        }
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        context.Response.ContentType = "application/problem+json";
        await JsonSerializer.SerializeAsync(context.Response.Body, problem.ToProblem(), KennelJson.Default.Problem, context.RequestAborted);
    }

    // System.Text.Json's messages name the CLR type; the path and a plain sentence are what a client needs.
    private static string JsonDetail(JsonException json) =>
        json.Path is { Length: > 1 } path
            ? $"The value at '{path}' is missing, of the wrong type, or not a known field."
            : "The body must be a JSON object with the documented fields.";

    private static string? JsonField(JsonException json) =>
        json.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
