using System.Buffers;
using System.Net.ServerSentEvents;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Kennel.Contracts;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

// Event stores belong to stateful Streamable HTTP, which this endpoint is (it speaks 2025-11-25 with sessions).
#pragma warning disable MCP9006

namespace Kennel.Mcp;

/// <summary>
/// MCP's Streamable HTTP transport (2025-11-25) on minimal APIs: the HTTP rules around the SDK's
/// <see cref="StreamableHttpServerTransport"/>, which does the JSON-RPC and SSE framing. POST carries client messages
/// (answered as an SSE stream, or 202 when there is nothing to answer), GET opens the stream of server-initiated
/// messages, DELETE ends the session. Every SSE event carries an id kept in the session's <see cref="McpEventStore"/>, so a
/// client that lost a stream resumes it with a GET carrying <c>Last-Event-ID</c> (SEP-1699). Browsers on <see cref="McpHttpOptions.AllowedOrigins"/> get CORS answers.
/// Authentication and rate limiting are the host's: it attaches their policies to the returned group.
/// <paramref name="scopeChallenge"/>, when given, sees each <c>tools/call</c> before the server does: a
/// <c>WWW-Authenticate</c> value it returns answers the POST 403 with that header (MCP authorization, runtime
/// insufficient scope), so an OAuth client can step up its token and retry.
/// </summary>
public sealed class StreamableHttpEndpoint(
    McpSessionTable sessions,
    McpHttpOptions options,
    Func<HttpContext, McpServerOptions> serverOptions,
    Func<ClaimsPrincipal, string?> ownerOf,
    IServiceProvider services,
    Func<HttpContext, McpServerOptions, JsonRpcRequest, ValueTask<ScopeChallenge?>>? scopeChallenge = null)
{
    public const string SessionIdHeader = "Mcp-Session-Id";
    public const string ProtocolVersionHeader = "MCP-Protocol-Version";

    private static readonly JsonTypeInfo<JsonRpcMessage> MessageJson = TypeInfo<JsonRpcMessage>();
    private static readonly JsonTypeInfo<JsonRpcError> ErrorJson = TypeInfo<JsonRpcError>();

    public McpSessionTable Sessions => sessions;

    public McpHttpOptions Options => options;

    /// <summary>
    /// Maps POST, GET and DELETE on <paramref name="pattern"/>, with the CORS policy (the host runs ASP.NET Core's CORS
    /// middleware before authentication, so preflights need no credential). Sessions end when the application stops.
    /// </summary>
    public RouteGroupBuilder Map(IEndpointRouteBuilder app, string pattern)
    {
        app.ServiceProvider.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => _ = sessions.EndAllAsync());
        var group = app.MapGroup(pattern);
        group.RequireCors(Cors);
        group.MapPost("", PostAsync);
        group.MapGet("", GetAsync);
        group.MapDelete("", DeleteAsync);
        return group;
    }

    private async Task PostAsync(HttpContext context)
    {
        if (!await PassesHeaderChecksAsync(context, requireJson: true))
        {
            return;
        }
        if (!context.Request.HasJsonContentType())
        {
            await WriteErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, McpErrorCode.InvalidRequest,
                "Unsupported Media Type: send the JSON-RPC message as application/json.");
            return;
        }
        // Buffered (Kestrel caps its size) so its text is checked before anything decodes it.
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var json = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        var bad = JsonText.Find(json.Span);
        if (bad is not null && bad.Path is not ["params", ..])
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, McpErrorCode.InvalidRequest, $"Invalid Request: {bad.Describe(bad.Field)}");
            return;
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
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, McpErrorCode.ParseError,
                "Parse error: the body is not one JSON-RPC message.");
            return;
        }
        var owner = ownerOf(context.User);
        if (owner is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status403Forbidden, McpErrorCode.InvalidRequest, "Forbidden: this credential cannot use MCP.");
            return;
        }
        var items = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (McpRequestCheck.Check(message, bad, items) is { } refusal)
        {
            // A request's error goes back as its answer (200, as any JSON-RPC response); anything else cannot be answered.
            await Results.Json(refusal, ErrorJson, statusCode: message is JsonRpcRequest ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest)
                .ExecuteAsync(context);
            return;
        }

        McpHttpSession? session;
        if (string.IsNullOrEmpty(SessionId(context)))
        {
            if (message is not JsonRpcRequest { Method: RequestMethods.Initialize })
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, McpErrorCode.InvalidRequest,
                    $"Bad Request: send the {SessionIdHeader} header that initialize returned; only initialize starts a session.");
                return;
            }
            session = sessions.Create(owner, serverOptions(context), services);
        }
        else
        {
            session = await FindSessionAsync(context, owner);
            if (session is null)
            {
                return;
            }
        }

        using var inFlight = session.Enter();
        context.Response.Headers[SessionIdHeader] = session.Id;
        if (scopeChallenge is not null && message is JsonRpcRequest { Method: RequestMethods.ToolsCall } call
            && await scopeChallenge(context, session.Server.ServerOptions, call) is { } challenge)
        {
            context.Response.Headers.WWWAuthenticate = challenge.Header;
            await Results.Json(new JsonRpcError { Id = call.Id, Error = new JsonRpcErrorDetail { Code = (int)McpErrorCode.InvalidRequest, Message = challenge.Message } },
                ErrorJson, statusCode: StatusCodes.Status403Forbidden).ExecuteAsync(context);
            return;
        }
        message.Context = new JsonRpcMessageContext { User = context.User, Items = items };
        StartEventStream(context);
        var body = new PrimingHoldStream(context.Response.Body);
        bool answered;
        try
        {
            answered = await session.Transport.HandlePostRequestAsync(message, body, context.RequestAborted);
        }
        finally
        {
            await body.ReleaseAsync();
        }
        if (!answered)
        {
            // A notification or a response: nothing to answer, so no event stream either.
            context.Response.Headers.ContentType = (string?)null;
            context.Response.StatusCode = StatusCodes.Status202Accepted;
        }
    }

    private async Task GetAsync(HttpContext context)
    {
        if (!await PassesHeaderChecksAsync(context, requireJson: false))
        {
            return;
        }
        var session = await FindSessionAsync(context, ownerOf(context.User));
        if (session is null)
        {
            return;
        }
        var lastEventId = context.Request.Headers["Last-Event-ID"].ToString();
        if (lastEventId.Length > 0)
        {
            await ResumeAsync(context, session, lastEventId);
            return;
        }
        if (!session.TryOpenGetStream())
        {
            await WriteErrorAsync(context, StatusCodes.Status409Conflict, McpErrorCode.InvalidRequest,
                "Conflict: this session already has its GET stream open.");
            return;
        }
        await StreamAsync(context, session, (body, cancellationToken) => session.Transport.HandleGetRequestAsync(body, cancellationToken));
    }

    /// <summary>
    /// Replays the events of the stream <paramref name="lastEventId"/> belongs to that came after it, then (while that
    /// stream is still being written) the rest as they come. 404 when the event is no longer kept.
    /// </summary>
    private static async Task ResumeAsync(HttpContext context, McpHttpSession session, string lastEventId)
    {
        var reader = await session.Events.GetStreamReaderAsync(lastEventId, context.RequestAborted);
        if (reader is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, McpErrorCode.InvalidRequest,
                "Not Found: that event is no longer kept; start a new request.");
            return;
        }
        await StreamAsync(context, session,
            (body, cancellationToken) => SseFormatter.WriteAsync(reader.ReadEventsAsync(cancellationToken), body, WriteEventData, cancellationToken));
    }

    /// <summary>Opens an SSE response for the session and writes it until the writer ends or the client goes away.</summary>
    private static async Task StreamAsync(HttpContext context, McpHttpSession session, Func<Stream, CancellationToken, Task> write)
    {
        using var inFlight = session.Enter();
        context.Response.Headers[SessionIdHeader] = session.Id;
        StartEventStream(context);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        try
        {
            await write(context.Response.Body, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client closed the stream, which is how SSE streams end.
        }
    }

    private static void WriteEventData(SseItem<JsonRpcMessage?> item, IBufferWriter<byte> writer)
    {
        if (item.Data is null)
        {
            return;
        }
        using var json = new Utf8JsonWriter(writer);
        JsonSerializer.Serialize(json, item.Data, MessageJson);
    }

    private async Task DeleteAsync(HttpContext context)
    {
        if (!await PassesHeaderChecksAsync(context, requireJson: false, requireEventStream: false))
        {
            return;
        }
        var session = await FindSessionAsync(context, ownerOf(context.User));
        if (session is not null && await sessions.EndAsync(session.Id, session.Owner))
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
        }
    }

    /// <summary>Origin (403), MCP-Protocol-Version (400) and Accept (406), in that order.</summary>
    private async Task<bool> PassesHeaderChecksAsync(HttpContext context, bool requireJson, bool requireEventStream = true)
    {
        if (!OriginAllowed(context.Request))
        {
            await WriteErrorAsync(context, StatusCodes.Status403Forbidden, McpErrorCode.InvalidRequest,
                $"Forbidden: origin '{context.Request.Headers.Origin}' is not allowed.");
            return false;
        }
        var version = context.Request.Headers[ProtocolVersionHeader].ToString();
        if (version.Length > 0 && !McpHttpOptions.SupportedProtocolVersions.Contains(version))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, McpErrorCode.InvalidRequest,
                $"Bad Request: {ProtocolVersionHeader} '{version}' is not supported; use {McpHttpOptions.ProtocolVersion}.");
            return false;
        }
        var accept = context.Request.GetTypedHeaders().Accept;
        if ((requireJson && !accept.Any(a => Accepts(a, "application/json"))) || (requireEventStream && !accept.Any(a => Accepts(a, "text/event-stream"))))
        {
            var wanted = requireJson ? "application/json and text/event-stream" : "text/event-stream";
            await WriteErrorAsync(context, StatusCodes.Status406NotAcceptable, McpErrorCode.InvalidRequest, $"Not Acceptable: the Accept header must include {wanted}.");
            return false;
        }
        return true;
    }

    private async Task<McpHttpSession?> FindSessionAsync(HttpContext context, string? owner)
    {
        var id = SessionId(context);
        if (string.IsNullOrEmpty(id))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, McpErrorCode.InvalidRequest, $"Bad Request: the {SessionIdHeader} header is required.");
            return null;
        }
        // A session of another identity is reported exactly like one that never existed.
        var session = owner is null ? null : sessions.Find(id, owner);
        if (session is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, (McpErrorCode)(-32001),
                "Session not found: it ended or expired. Start a new one with initialize.");
        }
        return session;
    }

    private bool OriginAllowed(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return true;
        }
        if (options.AllowedOrigins.Count > 0)
        {
            return options.AllowedOrigins.Any(allowed => string.Equals(allowed.TrimEnd('/'), origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));
        }
        return Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.IsLoopback
            && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// What a page on an allowed origin may send and read. Other origins get no CORS headers, and their requests the
    /// 403 of <see cref="OriginAllowed"/>.
    /// </summary>
    private void Cors(CorsPolicyBuilder policy) => policy
        .WithOrigins([.. options.AllowedOrigins.Select(origin => origin.TrimEnd('/'))])
        .WithMethods(HttpMethods.Post, HttpMethods.Get, HttpMethods.Delete)
        .WithHeaders("Authorization", "Content-Type", "Accept", SessionIdHeader, ProtocolVersionHeader, "Last-Event-ID")
        // The session id continues the session; WWW-Authenticate and Retry-After say what to do after a 401 or a 429.
        .WithExposedHeaders(SessionIdHeader, "WWW-Authenticate", "Retry-After")
        .SetPreflightMaxAge(TimeSpan.FromHours(1));

    private static bool Accepts(Microsoft.Net.Http.Headers.MediaTypeHeaderValue value, string mediaType) =>
        value.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase)
        || value.MediaType.Equals("*/*", StringComparison.Ordinal)
        || value.MediaType.Equals(mediaType[..mediaType.IndexOf('/', StringComparison.Ordinal)] + "/*", StringComparison.OrdinalIgnoreCase);

    private static string SessionId(HttpContext context) => context.Request.Headers[SessionIdHeader].ToString();

    private static void StartEventStream(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache,no-store";
        context.Response.Headers.ContentEncoding = "identity";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    private static Task WriteErrorAsync(HttpContext context, int status, McpErrorCode code, string message) =>
        Results.Json(new JsonRpcError { Id = default, Error = new JsonRpcErrorDetail { Code = (int)code, Message = message } }, ErrorJson, statusCode: status)
            .ExecuteAsync(context);

    private static JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(T));
}

/// <summary>A refusal of a tool call for want of scopes: the <c>WWW-Authenticate</c> header and the error message of the 403.</summary>
public sealed record ScopeChallenge(string Header, string Message);
