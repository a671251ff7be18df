using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Kennel.Cli;

/// <summary>
/// Pumps JSON-RPC messages between an MCP client (on one transport, stdio in <c>kennel mcp</c>) and Kennel's Streamable
/// HTTP endpoint (on another), unchanged in both directions: requests, responses, errors and notifications, with their
/// ids. Nothing is interpreted except what a bridge must know:
/// <list type="bullet">
/// <item>Requests go upstream concurrently, because the HTTP transport returns from a send only when the answer has
/// arrived; a long <c>wait-for-session</c> must not hold up a <c>notifications/cancelled</c> behind it.</item>
/// <item>A request that cannot be delivered gets a JSON-RPC error with the reason, so the client is never left waiting.</item>
/// <item>When Kennel no longer knows the session (it restarted, or ended it), the client's <c>initialize</c> is replayed
/// on a new session and the message is sent again, so a long-lived IDE connection survives a server restart.</item>
/// <item>When the client closes its side, the requests it already sent are still answered before the bridge exits
/// (<c>printf '…' | kennel mcp</c> gets every answer); a signal ends it sooner.</item>
/// </list>
/// </summary>
/// <param name="fromClient">The client's messages; completes when the client closes its side.</param>
/// <param name="toClient">Sends a message to the client, which must work after <paramref name="fromClient"/> completes.</param>
public sealed partial class McpBridge(ChannelReader<JsonRpcMessage> fromClient, Func<JsonRpcMessage, CancellationToken, Task> toClient,
    Func<CancellationToken, Task<ITransport>> connectUpstream, string upstreamName, ILogger logger)
    : IDisposable
{
    private readonly ConcurrentDictionary<RequestId, CancellationTokenSource> inFlight = new();
    private readonly ConcurrentDictionary<long, Task> work = new();
    private readonly ConcurrentDictionary<RequestId, byte> ownRequests = new();
    private readonly SemaphoreSlim reconnecting = new(1, 1);
    private long sequence;
    private Upstream? current;
    private JsonRpcRequest? initialize;
    private CancellationToken shutdown;

    /// <summary>
    /// Runs until the client closes its side and every request it sent is answered (exit 0), or the first
    /// <c>initialize</c> cannot be delivered (exit 1).
    /// </summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // What Kennel sends is passed on until its transport closes, not cut off when the requests stop: an answer that
        // arrived as the bridge was stopping is still delivered.
        shutdown = cancellationToken;
        current = Start(await connectUpstream(cancellationToken), 0, shutdown);
        try
        {
            await foreach (var message in fromClient.ReadAllAsync(cancellationToken))
            {
                if (logger.IsEnabled(LogLevel.Debug))
                {
#pragma warning disable CA1873 // guarded by IsEnabled just above
                    LogUp(logger, Describe(message));
#pragma warning restore CA1873
                }
                if (message is JsonRpcRequest { Method: RequestMethods.Initialize } request)
                {
                    // Nothing else can usefully go upstream before the session exists, so this one is sent in line.
                    initialize = request;
                    if (!await ForwardAsync(message, stop.Token))
                    {
                        return ExitCodes.Error;
                    }
                    LogConnected(logger, upstreamName);
                }
                else if (message is JsonRpcRequest { Id: var id })
                {
                    var requestStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                    inFlight[id] = requestStop;
                    Track(async () =>
                    {
                        try
                        {
                            await ForwardAsync(message, requestStop.Token);
                        }
                        finally
                        {
                            inFlight.TryRemove(id, out _);
                            requestStop.Dispose();
                        }
                    });
                }
                else
                {
                    await ForwardAsync(message, stop.Token);
                    if (message is JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled &&
                        CancelledRequest(cancelled) is { } target && inFlight.TryGetValue(target, out var requestStop))
                    {
                        // Kennel has been told; stop waiting for an answer that will not come.
                        await requestStop.CancelAsync();
                    }
                }
            }
            LogStdinClosed(logger);
            // The client has said all it will; it is still owed the answers to what it asked. A client that will not
            // wait for them ends the bridge with a signal, which cancels them.
            await Task.WhenAll(work.Values).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return ExitCodes.Ok;
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(work.Values);
            // Ends the session on the server (DELETE) and completes its messages, so the pump delivers the last of them and ends.
            await current.Transport.DisposeAsync();
            await current.Pump;
        }
    }

    private sealed record Upstream(ITransport Transport, int Generation, Task Pump);

    private Upstream Start(ITransport transport, int generation, CancellationToken cancellationToken) =>
        new(transport, generation, PumpDownAsync(transport, cancellationToken));

    /// <summary>Everything Kennel sends (answers, progress, its own requests) goes to the client as it is.</summary>
    private async Task PumpDownAsync(ITransport transport, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in transport.MessageReader.ReadAllAsync(cancellationToken))
            {
                if (message is JsonRpcMessageWithId { Id: var id } && ownRequests.TryRemove(id, out _))
                {
                    continue; // the answer to a replayed initialize
                }
                if (logger.IsEnabled(LogLevel.Debug))
                {
#pragma warning disable CA1873 // guarded by IsEnabled just above
                    LogDown(logger, Describe(message));
#pragma warning restore CA1873
                }
                await toClient(message, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception failure) when (failure is IOException or InvalidOperationException)
        {
            LogClientGone(logger, failure.Message);
        }
    }

    private void Track(Func<Task> job)
    {
        var key = Interlocked.Increment(ref sequence);
        var task = Task.Run(async () =>
        {
            try
            {
                await job();
            }
            finally
            {
                work.TryRemove(key, out _);
            }
        });
        work.TryAdd(key, task);
    }

    /// <summary>Sends one message upstream; on failure tells the client (for a request) and the log. False when it failed.</summary>
    private async Task<bool> ForwardAsync(JsonRpcMessage message, CancellationToken cancellationToken)
    {
        try
        {
            var upstream = current!;
            try
            {
                await upstream.Transport.SendMessageAsync(message, cancellationToken);
            }
            catch (HttpRequestException gone) when (gone.StatusCode == HttpStatusCode.NotFound && initialize is not null && message != initialize)
            {
                upstream = await ReconnectAsync(upstream, cancellationToken);
                await upstream.Transport.SendMessageAsync(message, cancellationToken);
            }
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false; // the client cancelled it, or we are shutting down: no answer is expected
        }
        catch (Exception failure) when (failure is HttpRequestException or McpException or IOException or TaskCanceledException)
        {
            var (code, text) = Explain(failure);
            if (message is JsonRpcRequest request)
            {
                if (request == initialize)
                {
                    LogInitializeFailed(logger, text);
                }
                else
                {
                    LogRequestFailed(logger, request.Method, text);
                }
                await AnswerAsync(new JsonRpcError { Id = request.Id, Error = new JsonRpcErrorDetail { Code = code, Message = text } });
            }
            else
            {
                LogNotForwarded(logger, message is JsonRpcNotification n ? n.Method : "a response", text);
            }
            return false;
        }
    }

    private async Task AnswerAsync(JsonRpcMessage message)
    {
        try
        {
            await toClient(message, CancellationToken.None);
        }
        catch (Exception failure) when (failure is IOException or InvalidOperationException)
        {
            LogClientGone(logger, failure.Message);
        }
    }

    /// <summary>Kennel answered 404 for the session: start a new one with the client's own <c>initialize</c>, once for all callers.</summary>
    private async Task<Upstream> ReconnectAsync(Upstream failed, CancellationToken cancellationToken)
    {
        await reconnecting.WaitAsync(cancellationToken);
        try
        {
            if (current != failed)
            {
                return current!; // another request already did it
            }
            LogReconnecting(logger);
            var transport = await connectUpstream(cancellationToken);
            var replay = new JsonRpcRequest
            {
                Id = new RequestId($"kennel-mcp-reconnect-{failed.Generation + 1}"),
                Method = initialize!.Method,
                Params = initialize.Params?.DeepClone(),
            };
            ownRequests[replay.Id] = 0;
            var next = Start(transport, failed.Generation + 1, shutdown);
            await transport.SendMessageAsync(replay, cancellationToken);
            await transport.SendMessageAsync(new JsonRpcNotification { Method = NotificationMethods.InitializedNotification }, cancellationToken);
            current = next;
            await DisposeQuietlyAsync(failed.Transport);
            return next;
        }
        finally
        {
            reconnecting.Release();
        }
    }

    private async Task DisposeQuietlyAsync(ITransport transport)
    {
        try
        {
            await transport.DisposeAsync();
        }
        catch (Exception failure) when (failure is HttpRequestException or IOException or OperationCanceledException)
        {
            LogOldSessionNotClosed(logger, failure.Message);
        }
    }

    private (int Code, string Text) Explain(Exception failure) => failure switch
    {
        McpProtocolException protocol => ((int)protocol.ErrorCode, protocol.Message),
        HttpRequestException { StatusCode: HttpStatusCode.Unauthorized } =>
            ((int)McpErrorCode.InternalError, $"Kennel at {upstreamName} refused KENNEL_API_KEY (401): the key is wrong, revoked or expired."),
        HttpRequestException { StatusCode: HttpStatusCode.Forbidden } http =>
            ((int)McpErrorCode.InternalError, $"Kennel at {upstreamName} refused the request (403): {http.Message}"),
        HttpRequestException { StatusCode: HttpStatusCode.TooManyRequests } =>
            ((int)McpErrorCode.InternalError, $"Kennel at {upstreamName} is rate limiting this key (429); try again shortly."),
        HttpRequestException { StatusCode: { } status } http =>
            ((int)McpErrorCode.InternalError, $"Kennel at {upstreamName} answered {(int)status}: {http.Message}"),
        HttpRequestException or IOException or TaskCanceledException =>
            ((int)McpErrorCode.InternalError, $"Cannot reach Kennel at {upstreamName} ({failure.Message}). Is it running, and is KENNEL_URL right?"),
        _ => ((int)McpErrorCode.InternalError, $"Kennel at {upstreamName}: {failure.Message}"),
    };

    private static RequestId? CancelledRequest(JsonRpcNotification notification) => notification.Params?["requestId"] switch
    {
        JsonValue value when value.TryGetValue(out string? text) => new RequestId(text),
        JsonValue value when value.TryGetValue(out long number) => new RequestId(number),
        _ => null,
    };

    private static string Describe(JsonRpcMessage message) => message switch
    {
        JsonRpcRequest request => $"request {request.Method} id={request.Id}",
        JsonRpcNotification notification => $"notification {notification.Method}",
        JsonRpcResponse response => $"response id={response.Id}",
        JsonRpcError error => $"error id={error.Id} {error.Error.Code} {error.Error.Message}",
        _ => message.GetType().Name,
    };

    public void Dispose() => reconnecting.Dispose();

    [LoggerMessage(Level = LogLevel.Debug, Message = "client -> kennel: {Message}")]
    private static partial void LogUp(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "kennel -> client: {Message}")]
    private static partial void LogDown(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to {Endpoint}")]
    private static partial void LogConnected(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Debug, Message = "stdin closed; ending the session")]
    private static partial void LogStdinClosed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The client's side is closed: {Reason}")]
    private static partial void LogClientGone(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "initialize failed: {Reason}")]
    private static partial void LogInitializeFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} failed: {Reason}")]
    private static partial void LogRequestFailed(ILogger logger, string method, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not pass {Message} on to Kennel: {Reason}")]
    private static partial void LogNotForwarded(ILogger logger, string message, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kennel no longer knows this MCP session (it restarted or ended it); starting a new one.")]
    private static partial void LogReconnecting(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closing the old session: {Reason}")]
    private static partial void LogOldSessionNotClosed(ILogger logger, string reason);
}
