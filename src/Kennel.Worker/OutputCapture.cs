using System.Text;
using Kennel.Contracts.Workers;

namespace Kennel.Worker;

/// <summary>
/// Reads one output stream of a workload to its end, decoding UTF-8 across read boundaries, and keeps what it read as
/// chunks until they are taken for a report. Offsets count UTF-8 bytes of the decoded text, the same measure the
/// control plane uses, so chunk offsets line up however the text was split. Past the cap it keeps draining the pipe
/// (a full pipe would stall the workload) but keeps nothing more, and marks the stream truncated.
/// </summary>
public sealed class OutputCapture(string stream, int limitBytes)
{
    /// <summary>How much of the start of the stream <see cref="Beginning"/> keeps.</summary>
    public const int BeginningChars = 2048;

    private readonly Lock gate = new();
    private readonly StringBuilder pending = new();
    private readonly StringBuilder beginning = new();
    private long pendingOffset;
    private long kept;
    private bool truncated;
    private bool truncationReported;

    public string Stream { get; } = stream;

    public async Task PumpAsync(Stream source, CancellationToken cancellationToken)
    {
        var decoder = new UTF8Encoding(false, false).GetDecoder();
        var bytes = new byte[16 * 1024];
        var chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
        int read;
        while ((read = await source.ReadAsync(bytes, cancellationToken)) > 0)
        {
            Keep(chars.AsSpan(0, decoder.GetChars(bytes, 0, read, chars, 0, flush: false)));
        }
        Keep(chars.AsSpan(0, decoder.GetChars([], 0, 0, chars, 0, flush: true)));
    }

    /// <summary>
    /// Takes up to <paramref name="maxBytes"/> of what was read since the last call (cut at a character boundary), or
    /// null when there is nothing new. <see cref="HasPending"/> says whether more is left.
    /// </summary>
    public OutputChunk? Take(int maxBytes)
    {
        lock (gate)
        {
            if (pending.Length == 0 && (truncationReported || !truncated))
            {
                return null;
            }
            var text = pending.ToString();
            var taken = FitWithin(text, maxBytes).ToString();
            var final = taken.Length == text.Length;
            var chunk = new OutputChunk(Stream, pendingOffset, taken, final && truncated);
            pendingOffset += Encoding.UTF8.GetByteCount(taken);
            pending.Remove(0, taken.Length);
            truncationReported = final && truncated;
            return chunk;
        }
    }

    /// <summary>The first <see cref="BeginningChars"/> characters read, whether or not they were taken since.</summary>
    public string Beginning
    {
        get
        {
            lock (gate)
            {
                return beginning.ToString();
            }
        }
    }

    public bool HasPending
    {
        get
        {
            lock (gate)
            {
                return pending.Length > 0 || (truncated && !truncationReported);
            }
        }
    }

    private void Keep(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return;
        }
        lock (gate)
        {
            if (truncated)
            {
                return;
            }
            var bytes = Encoding.UTF8.GetByteCount(text);
            if (kept + bytes > limitBytes)
            {
                text = FitWithin(text, limitBytes - kept);
                bytes = Encoding.UTF8.GetByteCount(text);
                truncated = true;
            }
            pending.Append(text);
            kept += bytes;
            if (beginning.Length < BeginningChars)
            {
                beginning.Append(text[..Math.Min(text.Length, BeginningChars - beginning.Length)]);
            }
        }
    }

    private static ReadOnlySpan<char> FitWithin(ReadOnlySpan<char> text, long budget)
    {
        var length = 0;
        long used = 0;
        while (length < text.Length)
        {
            var width = char.IsHighSurrogate(text[length]) && length + 1 < text.Length ? 2 : 1;
            var size = Encoding.UTF8.GetByteCount(text.Slice(length, width));
            if (used + size > budget)
            {
                break;
            }
            used += size;
            length += width;
        }
        return text[..length];
    }
}
