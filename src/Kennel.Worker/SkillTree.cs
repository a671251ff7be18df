using System.Formats.Tar;
using System.IO.Compression;

namespace Kennel.Worker;

/// <summary>
/// Unpacks a skill archive into a folder that sandboxes mount read-only. The control plane inspected the archive before
/// it stored it, but the worker does not trust bytes blindly: it takes only directories, regular files and links that
/// stay inside, within its own size bounds, and makes every link after every file, so no write ever goes through a link.
/// </summary>
internal static class SkillTree
{
    public const long MaxUnpackedBytes = 128L << 20;
    public const int MaxEntries = 2000;

    private const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Executable = Readable | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>Unpacks <paramref name="archive"/> (a gzipped tar) into <paramref name="target"/>, which must not exist yet. Throws <see cref="InvalidDataException"/> for an archive it refuses.</summary>
    public static void Extract(byte[] archive, string target)
    {
        var root = Path.GetFullPath(target);
        System.IO.Directory.CreateDirectory(root);
        var links = new List<(string Path, string Target)>();
        using var inflated = new BoundedStream(new GZipStream(new MemoryStream(archive, writable: false), CompressionMode.Decompress), MaxUnpackedBytes);
        using var tar = new TarReader(inflated);
        var count = 0;
        while (tar.GetNextEntry() is { } entry)
        {
            if (++count > MaxEntries)
            {
                throw new InvalidDataException($"the archive holds more than {MaxEntries} entries");
            }
            if (Inside(root, entry.Name) is not { } path)
            {
                continue; // the folder itself
            }
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    System.IO.Directory.CreateDirectory(path, Executable);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!, Executable);
                    using (var file = new FileStream(path, new FileStreamOptions
                    {
                        Mode = FileMode.CreateNew,
                        Access = FileAccess.Write,
                        UnixCreateMode = (entry.Mode & AnyExecute) != 0 ? Executable : Readable,
                    }))
                    {
                        entry.DataStream?.CopyTo(file);
                    }
                    break;
                case TarEntryType.SymbolicLink:
                    links.Add((path, entry.LinkName));
                    break;
                default:
                    throw new InvalidDataException($"'{entry.Name}' is a {entry.EntryType} entry; a skill holds only folders, files and links");
            }
        }
        foreach (var (path, linkTarget) in links)
        {
            if (Path.IsPathRooted(linkTarget) || !IsWithin(root, Path.GetFullPath(Path.Join(Path.GetDirectoryName(path), linkTarget))))
            {
                throw new InvalidDataException($"the link '{Path.GetRelativePath(root, path)}' points outside the skill");
            }
            var parent = Path.GetDirectoryName(path)!;
            if (ThroughLink(root, parent))
            {
                throw new InvalidDataException($"the link '{Path.GetRelativePath(root, path)}' is placed through another link");
            }
            System.IO.Directory.CreateDirectory(parent, Executable);
            File.CreateSymbolicLink(path, linkTarget);
        }
        // The umask may have narrowed what was asked for: every folder must be searchable by the sandbox's uid.
        File.SetUnixFileMode(root, Executable);
        foreach (var folder in System.IO.Directory.EnumerateDirectories(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }))
        {
            File.SetUnixFileMode(folder, Executable);
        }
    }

    /// <summary>The entry's full path under <paramref name="root"/>; null for the root itself; refused when absolute or climbing out.</summary>
    private static string? Inside(string root, string name)
    {
        if (name.StartsWith('/') || name.Contains('\\', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new InvalidDataException($"'{name}' is not a relative path inside the skill");
        }
        var segments = name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToList();
        if (segments.Contains(".."))
        {
            throw new InvalidDataException($"'{name}' climbs out of the skill");
        }
        if (segments.Count == 0)
        {
            return null;
        }
        var path = Path.GetFullPath(Path.Join(root, string.Join('/', segments)));
        return IsWithin(root, path) ? path : throw new InvalidDataException($"'{name}' is not inside the skill");
    }

    /// <summary>Whether a folder on the way from <paramref name="root"/> down to <paramref name="folder"/> is a link.</summary>
    private static bool ThroughLink(string root, string folder)
    {
        for (var path = folder; path.Length > root.Length; path = Path.GetDirectoryName(path)!)
        {
            if (new DirectoryInfo(path).LinkTarget is not null)
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsWithin(string root, string path) =>
        path.StartsWith(root + "/", StringComparison.Ordinal) || path == root;

    /// <summary>Reads at most <c>limit</c> bytes from the inner stream and refuses the rest, so a decompression bomb stops early.</summary>
    private sealed class BoundedStream(Stream inner, long limit) : Stream
    {
        private long read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, count);
            read += n;
            return read > limit ? throw new InvalidDataException($"the archive unpacks to more than {limit} bytes") : n;
        }

        public override void Flush()
        {
        }

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
