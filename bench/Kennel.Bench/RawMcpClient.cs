using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Kennel.Bench;

/// <summary>
/// A deliberately thin MCP client for load: one keep-alive HTTP/1.1 connection and one MCP session, requests written
/// from prepared bytes and answers read without a JSON parser (JSON or SSE, Content-Length or chunked). On a 2-vCPU
/// machine the load generator shares the CPU with the server it measures; the C# SDK client spends more CPU per call
/// than either server, so it would mostly measure itself.
/// </summary>
internal sealed class RawMcpClient : IAsyncDisposable
{
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();
    private readonly Socket socket;
    private readonly Uri endpoint;
    private readonly string? key;
    private byte[] buffer = new byte[64 * 1024];
    private int start;
    private int end;
    private byte[] callRequest = [];

    private RawMcpClient(Socket socket, Uri endpoint, string? key)
    {
        this.socket = socket;
        this.endpoint = endpoint;
        this.key = key;
    }

    public string SessionId { get; private set; } = "";

    /// <summary>Connects, initializes an MCP session and prepares <c>tools/call</c> of <paramref name="tool"/>.</summary>
    public static async Task<RawMcpClient> ConnectAsync(Uri endpoint, string? key, string tool, string argumentsJson)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(endpoint.Host), endpoint.Port));
        var client = new RawMcpClient(socket, endpoint, key);
        var (headers, body) = await client.SendAsync(client.Request(null,
            """{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"""));
        client.SessionId = Header(headers, "mcp-session-id") ?? throw new InvalidOperationException($"no session id: {headers}\n{body}");
        await client.SendAsync(client.Request(client.SessionId, """{"jsonrpc":"2.0","method":"notifications/initialized"}"""));
        client.callRequest = client.Request(client.SessionId,
            $$"""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"{{tool}}","arguments":""" + argumentsJson + "}}");
        return client;
    }

    /// <summary>One <c>tools/call</c>; throws unless the answer is a successful result.</summary>
    public async Task CallAsync()
    {
        var (_, body) = await SendAsync(callRequest);
        if (!body.Contains("\"result\"", StringComparison.Ordinal) || body.Contains("\"isError\":true", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"tools/call failed: {body}");
        }
    }

    /// <summary>One <c>tools/call</c>'s answer as it came: the header block (status line first) and the body, for the floor servers to replay.</summary>
    public Task<(string Headers, string Body)> CallRawAsync() => SendAsync(callRequest);

    public ValueTask DisposeAsync()
    {
        socket.Dispose();
        return ValueTask.CompletedTask;
    }

    private byte[] Request(string? sessionId, string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"POST {endpoint.AbsolutePath} HTTP/1.1\r\nHost: {endpoint.Authority}\r\n")
            .Append("Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n");
        if (key is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"Authorization: Bearer {key}\r\n");
        }
        if (sessionId is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"Mcp-Session-Id: {sessionId}\r\n");
        }
        head.Append("\r\n");
        return [.. Encoding.ASCII.GetBytes(head.ToString()), .. body];
    }

    private async Task<(string Headers, string Body)> SendAsync(byte[] request)
    {
        await socket.SendAsync(request);
        var headerLength = await FillUntilAsync(() => buffer.AsSpan(start, end - start).IndexOf(HeaderEnd));
        var headers = Encoding.ASCII.GetString(buffer, start, headerLength);
        start += headerLength + HeaderEnd.Length;
        if (!headers.StartsWith("HTTP/1.1 2", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"HTTP error: {headers}");
        }
        var body = new StringBuilder();
        if (Header(headers, "content-length") is { } lengthText)
        {
            var length = int.Parse(lengthText, CultureInfo.InvariantCulture);
            await FillUntilAsync(() => end - start >= length ? length : -1);
            body.Append(Encoding.UTF8.GetString(buffer, start, length));
            start += length;
        }
        else if (Header(headers, "transfer-encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
        {
            while (true)
            {
                var lineLength = await FillUntilAsync(() => buffer.AsSpan(start, end - start).IndexOf("\r\n"u8));
                if (!Utf8Parser.TryParse(buffer.AsSpan(start, lineLength), out int size, out _, 'x'))
                {
                    throw new InvalidOperationException("bad chunk size");
                }
                start += lineLength + 2;
                await FillUntilAsync(() => end - start >= size + 2 ? size : -1);
                body.Append(Encoding.UTF8.GetString(buffer, start, size));
                start += size + 2;
                if (size == 0)
                {
                    break;
                }
            }
        }
        return (headers, body.ToString());
    }

    // Reads until found() answers a non-negative number, which it returns.
    private async Task<int> FillUntilAsync(Func<int> found)
    {
        while (true)
        {
            var at = found();
            if (at >= 0)
            {
                return at;
            }
            if (start > 0)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }
            if (end == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }
            var read = await socket.ReceiveAsync(buffer.AsMemory(end));
            if (read == 0)
            {
                throw new InvalidOperationException("the server closed the connection");
            }
            end += read;
        }
    }

    private static string? Header(string headers, string name)
    {
        foreach (var line in headers.Split("\r\n"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }
        return null;
    }
}
