using System.Formats.Tar;
using System.IO.Compression;

namespace Kennel.Tests.Snapshots.Oci;

/// <summary>A layer tar built by a test, entry by entry, names written exactly as given (hostile ones included).</summary>
internal sealed class TestLayer
{
    public const UnixFileMode Regular = (UnixFileMode)0x1a4; // 0644
    private readonly List<TarEntry> entries = [];

    public TestLayer File(string name, string content, UnixFileMode mode = Regular)
    {
        entries.Add(new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            Mode = mode,
            DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)),
            ModificationTime = new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero),
        });
        return this;
    }

    public TestLayer Directory(string name, UnixFileMode mode = (UnixFileMode)0x1ed) => Add(new PaxTarEntry(TarEntryType.Directory, name) { Mode = mode });

    public TestLayer Symlink(string name, string target) => Add(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target });

    public TestLayer HardLink(string name, string target) => Add(new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target });

    public TestLayer Device(string name) => Add(new PaxTarEntry(TarEntryType.CharacterDevice, name) { DeviceMajor = 1, DeviceMinor = 3 });

    public TestLayer Fifo(string name) => Add(new PaxTarEntry(TarEntryType.Fifo, name));

    /// <summary>A file of <paramref name="size"/> zero bytes, which compresses to almost nothing.</summary>
    public TestLayer Zeros(string name, int size)
    {
        entries.Add(new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = Regular, DataStream = new MemoryStream(new byte[size]) });
        return this;
    }

    public byte[] Tar()
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                entry.DataStream?.Seek(0, SeekOrigin.Begin);
                writer.WriteEntry(entry);
            }
        }
        return buffer.ToArray();
    }

    public byte[] Gzip()
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Tar());
        }
        return buffer.ToArray();
    }

    public byte[] Zstd()
    {
        using var buffer = new MemoryStream();
        using (var zstd = new ZstdSharp.CompressionStream(buffer, leaveOpen: true))
        {
            zstd.Write(Tar());
        }
        return buffer.ToArray();
    }

    private TestLayer Add(TarEntry entry)
    {
        entries.Add(entry);
        return this;
    }
}
