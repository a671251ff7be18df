using System.Text;
using Kennel.Worker;

namespace Kennel.Tests.Units;

public sealed class OutputCaptureTests
{
    [Fact]
    public async Task Multibyte_characters_split_across_reads_are_decoded_whole()
    {
        var bytes = Encoding.UTF8.GetBytes("héllo ✓ 🐕 done");
        var capture = new OutputCapture("stdout", 1024);

        // One byte per read: every multibyte character arrives in pieces.
        await capture.PumpAsync(new PiecewiseStream(bytes.Select(b => new[] { b })), CancellationToken.None);
        var chunk = capture.Take(int.MaxValue);

        chunk.ShouldNotBeNull();
        chunk.Stream.ShouldBe("stdout");
        chunk.Offset.ShouldBe(0);
        chunk.Data.ShouldBe("héllo ✓ 🐕 done");
        chunk.Truncated.ShouldBeFalse();
        capture.Take(int.MaxValue).ShouldBeNull();
    }

    [Fact]
    public async Task Taking_in_bounded_pieces_yields_consecutive_offsets_cut_at_character_boundaries()
    {
        var text = string.Concat(Enumerable.Repeat("ab€", 1000));
        var capture = new OutputCapture("stdout", 1024 * 1024);
        await capture.PumpAsync(new PiecewiseStream([Encoding.UTF8.GetBytes(text)]), CancellationToken.None);

        var pieces = new List<Kennel.Contracts.Workers.OutputChunk>();
        while (capture.Take(100) is { } piece)
        {
            pieces.Add(piece);
        }

        capture.HasPending.ShouldBeFalse();
        pieces.Count.ShouldBeGreaterThan(1);
        string.Concat(pieces.Select(p => p.Data)).ShouldBe(text);
        pieces.ShouldAllBe(p => Encoding.UTF8.GetByteCount(p.Data) <= 100);
        long expected = 0;
        foreach (var piece in pieces)
        {
            piece.Offset.ShouldBe(expected);
            expected += Encoding.UTF8.GetByteCount(piece.Data);
        }
    }

    [Fact]
    public async Task A_character_split_between_two_large_reads_is_kept_whole()
    {
        var text = new string('a', 16 * 1024 - 1) + "€" + "z";
        var bytes = Encoding.UTF8.GetBytes(text);
        var capture = new OutputCapture("stdout", 1024 * 1024);

        await capture.PumpAsync(new PiecewiseStream([bytes[..(16 * 1024)], bytes[(16 * 1024)..]]), CancellationToken.None);

        capture.Take(int.MaxValue)!.Data.ShouldBe(text);
    }

    [Fact]
    public async Task The_cap_cuts_at_a_character_boundary_never_inside_one()
    {
        var capture = new OutputCapture("stderr", 5);

        await capture.PumpAsync(new PiecewiseStream([Encoding.UTF8.GetBytes("abcd€fgh")]), CancellationToken.None);
        var chunk = capture.Take(int.MaxValue);

        chunk.ShouldNotBeNull();
        chunk.Data.ShouldBe("abcd");
        chunk.Truncated.ShouldBeTrue();
    }

    [Fact]
    public async Task The_cap_keeps_exactly_the_limit_when_characters_fit()
    {
        var capture = new OutputCapture("stdout", 1000);

        await capture.PumpAsync(new PiecewiseStream(Enumerable.Range(0, 30).Select(_ => Encoding.UTF8.GetBytes(new string('x', 100)))), CancellationToken.None);
        var chunk = capture.Take(int.MaxValue)!;

        chunk.Data.Length.ShouldBe(1000);
        chunk.Truncated.ShouldBeTrue();
    }

    [Fact]
    public async Task Truncation_is_reported_once_and_nothing_after_the_cap_is_kept()
    {
        var capture = new OutputCapture("stdout", 10);

        await capture.PumpAsync(new PiecewiseStream([Encoding.UTF8.GetBytes("0123456")]), CancellationToken.None);
        var first = capture.Take(int.MaxValue)!;
        await capture.PumpAsync(new PiecewiseStream([Encoding.UTF8.GetBytes("789abcdef")]), CancellationToken.None);
        var second = capture.Take(int.MaxValue)!;
        await capture.PumpAsync(new PiecewiseStream([Encoding.UTF8.GetBytes("more")]), CancellationToken.None);

        first.Data.ShouldBe("0123456");
        first.Truncated.ShouldBeFalse();
        second.Data.ShouldBe("789");
        second.Offset.ShouldBe(7);
        second.Truncated.ShouldBeTrue();
        capture.Take(int.MaxValue).ShouldBeNull();
    }

    [Fact]
    public async Task Truncation_is_reported_even_when_the_cap_was_reached_exactly_before()
    {
        var capture = new OutputCapture("stdout", 4);

        await capture.PumpAsync(new PiecewiseStream([Encoding.UTF8.GetBytes("abcd")]), CancellationToken.None);
        var full = capture.Take(int.MaxValue)!;
        await capture.PumpAsync(new PiecewiseStream([Encoding.UTF8.GetBytes("e")]), CancellationToken.None);
        var flag = capture.Take(int.MaxValue);

        full.Data.ShouldBe("abcd");
        flag.ShouldNotBeNull();
        flag.Data.ShouldBe("");
        flag.Truncated.ShouldBeTrue();
        capture.Take(int.MaxValue).ShouldBeNull();
    }

    [Fact]
    public async Task Offsets_count_utf8_bytes_of_what_was_taken_before()
    {
        var capture = new OutputCapture("stdout", 1024);

        await capture.PumpAsync(new PiecewiseStream([Encoding.UTF8.GetBytes("é€")]), CancellationToken.None);
        var first = capture.Take(int.MaxValue)!;
        await capture.PumpAsync(new PiecewiseStream([Encoding.UTF8.GetBytes("x")]), CancellationToken.None);
        var second = capture.Take(int.MaxValue)!;

        first.Offset.ShouldBe(0);
        second.Offset.ShouldBe(5);
        second.Data.ShouldBe("x");
    }

    [Fact]
    public void Nothing_read_means_nothing_to_take()
    {
        new OutputCapture("stdout", 10).Take(int.MaxValue).ShouldBeNull();
    }

    /// <summary>A stream that returns the given pieces one read at a time, as a pipe does when a writer flushes.</summary>
    private sealed class PiecewiseStream(IEnumerable<byte[]> pieces) : Stream
    {
        private readonly Queue<byte[]> pending = new(pieces);
        private byte[] current = [];
        private int position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (position == current.Length)
            {
                if (!pending.TryDequeue(out var next))
                {
                    return 0;
                }
                current = next;
                position = 0;
            }
            var n = Math.Min(buffer.Length, current.Length - position);
            current.AsSpan(position, n).CopyTo(buffer);
            position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
