using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Kennel.Contracts;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Kennel.Mcp;

/// <summary>
/// What Kennel decides on an MCP endpoint before the package's transport sees a request, in this order (the host's
/// authentication, authorization and rate limiter have run):
/// <list type="number">
/// <item>a browser's <c>Origin</c> outside <see cref="McpHttpOptions.AllowedOrigins"/> (or, with none, other than
/// same-origin loopback): 403, against DNS rebinding;</item>
/// <item>a credential the endpoint has no owner for: 403;</item>
/// <item>an <c>Mcp-Session-Id</c> that is not a live session of this caller at this endpoint: 404
/// (<see cref="McpSessionOwners"/>);</item>
/// <item>a POST body that is not JSON (415), not JSON-RPC (400), or that the package would answer with -32603 and a
/// logged stack trace (<see cref="McpRequestCheck"/>): answered here, naming what is wrong (in a session, each
/// server checks the messages it is given the same way);</item>
/// <item>a <c>tools/call</c> the caller lacks scopes for, when it could get them: 403 with a <c>WWW-Authenticate</c>
/// step-up challenge; a <c>tools/call</c> with bad text in its arguments: its tool error (after unknown_tool and
/// insufficient_scope, as any call).</item>
/// </list>
/// The body is read here and left for the package to read again.
/// </summary>
public sealed class McpEdgeFilter(McpEndpoint endpoint, McpHttpOptions options, McpSessionOwners owners) : IEndpointFilter
{
    public const string SessionIdHeader = "Mcp-Session-Id";

    private static readonly JsonTypeInfo<JsonRpcMessage> MessageJson = TypeInfo<JsonRpcMessage>();
    private static readonly JsonTypeInfo<JsonRpcError> ErrorJson = TypeInfo<JsonRpcError>();
    private static readonly JsonTypeInfo<JsonRpcResponse> ResponseJson = TypeInfo<JsonRpcResponse>();
    private static readonly JsonTypeInfo<CallToolResult> ResultJson = TypeInfo<CallToolResult>();

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        if (!OriginAllowed(http.Request, options.AllowedOrigins))
        {
            return Error(StatusCodes.Status403Forbidden, McpErrorCode.InvalidRequest, $"Forbidden: origin '{http.Request.Headers.Origin}' is not allowed.");
        }
        if (endpoint.OwnerOf(http.User) is not { } owner)
        {
            return Error(StatusCodes.Status403Forbidden, McpErrorCode.InvalidRequest, "Forbidden: this credential cannot use MCP.");
        }
        var binding = McpSessionOwners.Bind(http, owner);
        var sessionId = http.Request.Headers[SessionIdHeader].ToString();
        if (!endpoint.Stateless && sessionId.Length > 0 && !owners.Owns(sessionId, binding))
        {
            return Error(StatusCodes.Status404NotFound, (McpErrorCode)(-32001), "Session not found: it ended or expired. Start a new one with initialize.");
        }
        if (!HttpMethods.IsPost(http.Request.Method))
        {
            return await next(context);
        }
        if (!http.Request.HasJsonContentType())
        {
            return Error(StatusCodes.Status415UnsupportedMediaType, McpErrorCode.InvalidRequest, "Unsupported Media Type: send the JSON-RPC message as application/json.");
        }
        if (await CheckBodyAsync(http, sessionId) is { } answer)
        {
            if (sessionId.Length > 0)
            {
                http.Response.Headers[SessionIdHeader] = sessionId;
            }
            return answer;
        }
        var original = http.Response.Body;
        // A stateless endpoint has no priming events; its POSTs that stream nothing are answered as one JSON body.
        Stream body = endpoint.Stateless ? new JsonAnswerStream(original, http.Response) : new PrimingHoldStream(original);
        http.Response.Body = body;
        try
        {
            return await next(context);
        }
        finally
        {
            await (body is JsonAnswerStream json ? json.ReleaseAsync() : ((PrimingHoldStream)body).ReleaseAsync());
            // Whatever writes after the transport (an error page) must not be held back past the response's end.
            http.Response.Body = original;
        }
    }

    /// <summary>
    /// Null when the body may go on to the package, or the answer. The body is read whole (Kestrel caps its size) and
    /// left unconsumed, so the package reads the same bytes; its text is checked before anything decodes it.
    /// </summary>
    private async Task<IResult?> CheckBodyAsync(HttpContext context, string sessionId)
    {
        var reader = context.Request.BodyReader;
        var read = await reader.ReadAsync(context.RequestAborted);
        while (!read.IsCompleted)
        {
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            read = await reader.ReadAsync(context.RequestAborted);
        }
        try
        {
            return await CheckMessageAsync(context, read.Buffer.IsSingleSegment ? read.Buffer.First : read.Buffer.ToArray(), sessionId);
        }
        finally
        {
            reader.AdvanceTo(read.Buffer.Start);
        }
    }

    private async Task<IResult?> CheckMessageAsync(HttpContext context, ReadOnlyMemory<byte> json, string sessionId)
    {
        var bad = JsonText.Find(json.Span);
        if (bad is not null && bad.Path is not ["params", ..])
        {
            return Error(StatusCodes.Status400BadRequest, McpErrorCode.InvalidRequest, $"Invalid Request: {bad.Describe(bad.Field)}");
        }
        var inSession = endpoint.Stateless || sessionId.Length > 0;
        // The common case, clean text in a session, is not decoded here: the package decodes it, and each session's
        // server checks its shape (McpEndpoint.Configure). A message that would open a session is, so that one the
        // server cannot read opens none; so is every message of a caller who may earn a step-up challenge.
        if (bad is null && inSession && endpoint.StepUp?.AppliesTo(context.User) != true)
        {
            return null;
        }
        JsonRpcMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(json.Span, MessageJson);
        }
        catch (JsonException)
        {
            message = null;
        }
        if (message is null)
        {
            return Error(StatusCodes.Status400BadRequest, McpErrorCode.ParseError, "Parse error: the body is not one JSON-RPC message.");
        }
        if (McpRequestCheck.Check(message, bad, out var argumentFailure) is { } refusal)
        {
            // A request's error goes back as its answer (200, as any JSON-RPC response); anything else cannot be answered.
            return Results.Json(refusal, ErrorJson, statusCode: message is JsonRpcRequest ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest);
        }
        return inSession && message is JsonRpcRequest { Method: RequestMethods.ToolsCall } call ? await AnswerCallAsync(context, call, argumentFailure) : null;
    }

    /// <summary>The step-up challenge of a call that lacks scopes, or the tool error of one with bad arguments; null for the others.</summary>
    private async Task<IResult?> AnswerCallAsync(HttpContext context, JsonRpcRequest call, ToolFailure? argumentFailure)
    {
        // McpRequestCheck let the call through, so its name is a string.
        var name = ((JsonObject)call.Params!)["name"]!.GetValue<string>();
        var tools = endpoint.Tools();
        if (endpoint.StepUp is { } stepUp && stepUp.AppliesTo(context.User) && endpoint.Guard?.StepUpScopes(tools, name, context.User) is { Count: > 0 } missing
            && await stepUp.ChallengeAsync(context, missing) is { } challenge)
        {
            context.Response.Headers.WWWAuthenticate = challenge.Header;
            return Results.Json(new JsonRpcError { Id = call.Id, Error = new JsonRpcErrorDetail { Code = (int)McpErrorCode.InvalidRequest, Message = challenge.Message } },
                ErrorJson, statusCode: StatusCodes.Status403Forbidden);
        }
        if (argumentFailure is null)
        {
            return null;
        }
        var failure = endpoint.Guard?.Refuse(tools, name, context.User) ?? argumentFailure;
        return Results.Json(new JsonRpcResponse { Id = call.Id, Result = JsonSerializer.SerializeToNode(failure.ToResult(), ResultJson) }, ResponseJson);
    }

    /// <summary>Requests without <c>Origin</c> are not a browser's; a browser's must come from an allowed origin.</summary>
    public static bool OriginAllowed(HttpRequest request, IReadOnlyList<string> allowedOrigins)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(allowedOrigins);
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return true;
        }
        if (allowedOrigins.Count > 0)
        {
            return allowedOrigins.Any(allowed => string.Equals(allowed.TrimEnd('/'), origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));
        }
        return Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.IsLoopback
            && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    private static IResult Error(int status, McpErrorCode code, string message) =>
        Results.Json(new JsonRpcError { Id = default, Error = new JsonRpcErrorDetail { Code = (int)code, Message = message } }, ErrorJson, statusCode: status);

    private static JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(T));
}
