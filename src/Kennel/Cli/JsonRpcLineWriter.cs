using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Kennel.Cli;

/// <summary>
/// Writes JSON-RPC messages to a stream one a line, as MCP's stdio transport frames them. The SDK's stdio transport
/// drops every write once its stdin has closed; a client that sent its requests and closed its side is still owed their
/// answers, so <c>kennel mcp</c> writes stdout itself.
/// </summary>
public sealed class JsonRpcLineWriter(Stream output) : IDisposable
{
    private static readonly JsonTypeInfo<JsonRpcMessage> MessageJson = (JsonTypeInfo<JsonRpcMessage>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage));
    private readonly SemaphoreSlim writing = new(1, 1);

    public async Task WriteAsync(JsonRpcMessage message, CancellationToken cancellationToken)
    {
        var line = JsonSerializer.SerializeToUtf8Bytes(message, MessageJson);
        await writing.WaitAsync(cancellationToken);
        try
        {
            await output.WriteAsync(line, cancellationToken);
            await output.WriteAsync("\n"u8.ToArray(), cancellationToken);
            await output.FlushAsync(cancellationToken);
        }
        finally
        {
            writing.Release();
        }
    }

    public void Dispose() => writing.Dispose();
}
