using System.Text;
using System.Text.Json;

namespace Kennel.Mcp;

/// <summary>
/// The body of one POST to a stateless endpoint, as the package writes it (always an SSE stream): a POST whose answer
/// streams nothing, one event holding the JSON-RPC response and nothing before it, leaves as that response alone in an
/// <c>application/json</c> body (Streamable HTTP lets a server answer either way; the package cannot). The first
/// event decides: a response is held until the package is done, then sent as JSON; anything else (a progress
/// notification of a call that streams) releases the stream as SSE, and the rest passes straight through.
/// Writes, flushes and the release are serialized.
/// </summary>
internal sealed class JsonAnswerStream(Stream inner, HttpResponse response) : Stream
{
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();

    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly MemoryStream held = new();
    private bool streaming;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (streaming)
            {
                await inner.WriteAsync(buffer, cancellationToken);
                return;
            }
            held.Write(buffer.Span);
            if (FirstEvent() is { } first && !IsResponse(first))
            {
                await StreamAsync(cancellationToken);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (streaming)
            {
                await inner.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>When the package is done: the held response as one JSON body, or whatever is held as it was written.</summary>
    public async Task ReleaseAsync()
    {
        await gate.WaitAsync();
        try
        {
            if (streaming || held.Length == 0)
            {
                return;
            }
            if (!response.HasStarted && FirstEvent() is { } only && only.End == held.Length && only.Data is { } data)
            {
                var json = Encoding.UTF8.GetBytes(data);
                response.ContentType = "application/json";
                response.Headers.CacheControl = default;
                response.ContentLength = json.Length;
                await inner.WriteAsync(json);
                return;
            }
            await StreamAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The client went away, or the response already ended: nothing left to send it to.
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task StreamAsync(CancellationToken cancellationToken)
    {
        streaming = true;
        await inner.WriteAsync(held.GetBuffer().AsMemory(0, (int)held.Length), cancellationToken);
        await inner.FlushAsync(cancellationToken);
        held.SetLength(0);
    }

    /// <summary>The first complete event held (its data lines joined) and where it ends; null until one is complete.</summary>
    private (string? Data, long End)? FirstEvent()
    {
        var bytes = held.GetBuffer().AsSpan(0, (int)held.Length);
        var end = bytes.IndexOf(EventEnd);
        if (end < 0)
        {
            return null;
        }
        var data = new List<string>();
        foreach (var line in Encoding.UTF8.GetString(bytes[..end]).Split('\n'))
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Add(line[5..].TrimStart(' '));
            }
        }
        return (data.Count == 0 ? null : string.Join('\n', data), end + EventEnd.Length);
    }

    /// <summary>A JSON-RPC response (an id, and no method): the last message of a stateless POST's stream.</summary>
    private static bool IsResponse((string? Data, long End) first)
    {
        if (first.Data is null)
        {
            return false;
        }
        try
        {
            using var message = JsonDocument.Parse(first.Data);
            return message.RootElement.ValueKind == JsonValueKind.Object && message.RootElement.TryGetProperty("id", out _)
                && !message.RootElement.TryGetProperty("method", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Write asynchronously.");

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            held.Dispose();
            gate.Dispose();
        }
        base.Dispose(disposing);
    }
}
