using System.Buffers;

namespace Kennel.Mcp;

/// <summary>
/// The body of one POST's event stream, as the SDK writes it: it holds the first write (the priming event, an id with
/// empty data) back until the next write, <see cref="Hold"/> at most, so that a quick answer leaves with the response
/// headers and the priming event in one send instead of two (Kestrel sends each write at once when buffering is off,
/// and each costs a send here and a wake-up in the client). A slow call's client still gets the priming event, and
/// with it an id to resume from, within <see cref="Hold"/>. Writes, flushes and the release are serialized.
/// </summary>
internal sealed class PrimingHoldStream(Stream inner) : Stream
{
    /// <summary>How long the first write may wait for the next one.</summary>
    public static readonly TimeSpan Hold = TimeSpan.FromMilliseconds(5);

    private readonly SemaphoreSlim gate = new(1, 1);
    private byte[]? held;
    private bool first = true;
    private Timer? timer;

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
            if (first)
            {
                first = false;
                held = buffer.ToArray();
                timer = new Timer(static state => _ = ((PrimingHoldStream)state!).ReleaseAsync(), this, Hold, Timeout.InfiniteTimeSpan);
                return;
            }
            if (held is { } before)
            {
                held = null;
                var length = before.Length + buffer.Length;
                var both = ArrayPool<byte>.Shared.Rent(length);
                try
                {
                    before.CopyTo(both, 0);
                    buffer.CopyTo(both.AsMemory(before.Length));
                    // The response body has copied the bytes once its write completes, so the array can go back then.
                    await inner.WriteAsync(both.AsMemory(0, length), cancellationToken);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(both);
                }
                return;
            }
            await inner.WriteAsync(buffer, cancellationToken);
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
            // While the first write is held, the release flushes it; otherwise the inner stream has sent it already.
            if (held is null)
            {
                await inner.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Sends what is held, if anything: when <see cref="Hold"/> ends, and when the POST's answer is complete.</summary>
    public async Task ReleaseAsync()
    {
        await gate.WaitAsync();
        try
        {
            if (timer is not null)
            {
                await timer.DisposeAsync();
                timer = null;
            }
            if (held is { } before)
            {
                held = null;
                await inner.WriteAsync(before);
                await inner.FlushAsync();
            }
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

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Write asynchronously.");

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
