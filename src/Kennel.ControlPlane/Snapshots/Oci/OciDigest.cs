using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Kennel.ControlPlane.Snapshots.Oci;

/// <summary>Content digests as the OCI specs write them: <c>sha256:</c> and 64 lowercase hex digits (the only algorithm Kennel accepts).</summary>
public static partial class OciDigest
{
    public static bool IsValid(string? digest) => digest is not null && Sha256Pattern().IsMatch(digest);

    public static string Of(ReadOnlySpan<byte> bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The hex part, safe as a file name once <see cref="IsValid"/> said yes.</summary>
    public static string Hex(string digest) => digest["sha256:".Length..];

    /// <summary>The first 12 hex digits, for log lines.</summary>
    public static string Short(string digest) => digest.Length > 19 ? digest[7..19] : digest;

    [GeneratedRegex("^sha256:[a-f0-9]{64}$")]
    private static partial Regex Sha256Pattern();
}

/// <summary>
/// Reads through to an inner stream while hashing and counting what passes, failing as soon as more than
/// <c>limit</c> bytes arrive; <see cref="Digest"/> is the digest of everything read so far.
/// </summary>
internal sealed class DigestingStream(Stream inner, long limit, Func<OciException> tooLarge) : Stream
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long BytesRead { get; private set; }

    public string Digest => "sha256:" + Convert.ToHexStringLower(hash.GetCurrentHash());

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        return Counted(buffer[..read]);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Counted(buffer.Span[..read]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Reads what is left, so that <see cref="Digest"/> covers the whole stream (a tar reader stops at its end marker).</summary>
    public void Drain()
    {
        var chunk = new byte[81920];
        while (Read(chunk) > 0)
        {
        }
    }

    private int Counted(ReadOnlySpan<byte> read)
    {
        BytesRead += read.Length;
        if (BytesRead > limit)
        {
            throw tooLarge();
        }
        hash.AppendData(read);
        return read.Length;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            hash.Dispose();
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
