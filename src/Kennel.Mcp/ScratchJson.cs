using System.Buffers;

namespace Kennel.Mcp;

/// <summary>
/// Each thread's scratch buffer for JSON that is written, then at once measured or copied, and not kept: an answer's
/// size (<see cref="McpEventStore"/>), a tool result's structured content before it is parsed. Reusing it spares the
/// hot path a new array, and its growths, on every call. Only for synchronous work: the buffer belongs to the thread,
/// so it must be released before the next <c>await</c>. A buffer that grew past 64 KB is dropped at release.
/// </summary>
public static class ScratchJson
{
    private const int KeptCapacity = 64 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? buffer;

    /// <summary>This thread's buffer, empty.</summary>
    public static ArrayBufferWriter<byte> Take()
    {
        var taken = buffer ??= new ArrayBufferWriter<byte>(4096);
        taken.ResetWrittenCount();
        return taken;
    }

    /// <summary>Done with the buffer of <see cref="Take"/>; a large one is not kept for the next use. False when it was dropped.</summary>
    public static bool Release(ArrayBufferWriter<byte> taken)
    {
        ArgumentNullException.ThrowIfNull(taken);
        if (taken.Capacity <= KeptCapacity)
        {
            return true;
        }
        if (ReferenceEquals(taken, buffer))
        {
            buffer = null;
        }
        return false;
    }
}
