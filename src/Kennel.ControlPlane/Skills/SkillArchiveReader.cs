using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Kennel.ControlPlane.Skills;

/// <summary>One tar entry with its bytes (empty for directories and links), held in memory: nothing touches the disk.</summary>
internal sealed record SkillEntry(string Name, TarEntryType Type, UnixFileMode Mode, string LinkName, long Length, byte[] Content);

/// <summary>Stages 1 and 2 of the inspection: the archive's hash, then its bounded decompression into entries.</summary>
internal static class SkillArchiveReader
{
    /// <summary>Reads at most one byte past the compressed limit, so an oversize upload is never buffered whole.</summary>
    public static byte[]? ReadBounded(Stream archive, long maxBytes)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = archive.Read(chunk, 0, chunk.Length)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > maxBytes)
            {
                return null;
            }
        }
        return buffer.ToArray();
    }

    public static bool HashMatches(byte[] bytes, string expectedSha256)
    {
        byte[] expected;
        try
        {
            expected = Convert.FromHexString(expectedSha256.Trim());
        }
        catch (FormatException)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(bytes), expected);
    }

    /// <summary>One regular file of an archive as UTF-8 text cut at <paramref name="maxChars"/>, or null when there is no such file or it is not text.</summary>
    public static string? ReadText(byte[] compressed, string path, SkillLimits limits, int maxChars)
    {
        var (entries, _) = ReadEntries(compressed, limits);
        var content = entries.FirstOrDefault(e => e.Type is TarEntryType.RegularFile or TarEntryType.V7RegularFile && SkillEntryRules.Normalise(e.Name) == path)?.Content;
        return content is null || SkillScanner.Text(content) is not { } text ? null : text.Length <= maxChars ? text : text[..maxChars];
    }

    /// <summary>Inflates and parses the tar, stopping at the first limit passed; the reason is null when all entries were read.</summary>
    public static (List<SkillEntry> Entries, SkillReason? Reason) ReadEntries(byte[] compressed, SkillLimits limits)
    {
        var entries = new List<SkillEntry>();
        var inflated = new InflationGuard(new GZipStream(new MemoryStream(compressed, writable: false), CompressionMode.Decompress), compressed.Length, limits);
        try
        {
            using var tar = new TarReader(inflated);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entries.Count == limits.MaxFiles)
                {
                    return (entries, SkillReason.Block("too_many_files", $"the archive holds more than {limits.MaxFiles} entries", null));
                }
                if (entry.Length > limits.MaxFileBytes)
                {
                    return (entries, SkillReason.Block("too_large", $"the file is {entry.Length} bytes, over the {limits.MaxFileBytes} byte limit", entry.Name));
                }
                entries.Add(new SkillEntry(entry.Name, entry.EntryType, entry.Mode, entry.LinkName, entry.Length, Content(entry)));
            }
            return (entries, null);
        }
        catch (InflationLimitException exception)
        {
            return (entries, SkillReason.Block(exception.Code, exception.Message, null));
        }
        catch (Exception exception) when (exception is InvalidDataException or FormatException or EndOfStreamException or ArgumentException)
        {
            return (entries, SkillReason.Block("bad_archive", "the archive is not a valid gzipped tar", null));
        }
    }

    private static byte[] Content(TarEntry entry)
    {
        if (entry.DataStream is null)
        {
            return [];
        }
        using var copy = new MemoryStream();
        entry.DataStream.CopyTo(copy);
        return copy.ToArray();
    }

    private sealed class InflationLimitException(string code, string message) : Exception(message)
    {
        public string Code { get; } = code;
    }

    /// <summary>Counts inflated bytes as they are read and throws as soon as a limit is passed.</summary>
    private sealed class InflationGuard(Stream inner, long compressedBytes, SkillLimits limits) : Stream
    {
        private long _inflated;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            _inflated += read;
            if (_inflated > limits.BombFloorBytes && _inflated > compressedBytes * limits.MaxCompressionRatio)
            {
                throw new InflationLimitException("compression_bomb",
                    $"the archive inflates more than {limits.MaxCompressionRatio} times its compressed size");
            }
            if (_inflated > limits.MaxUncompressedBytes)
            {
                throw new InflationLimitException("too_large", $"the archive inflates past {limits.MaxUncompressedBytes} bytes");
            }
            return read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _inflated; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
