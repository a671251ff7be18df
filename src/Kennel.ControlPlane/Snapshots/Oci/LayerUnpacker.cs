using System.Formats.Tar;

namespace Kennel.ControlPlane.Snapshots.Oci;

/// <summary>
/// Applies an image's layers, lowest first, to one root directory, as the OCI image spec's changesets say: entries
/// replace what lower layers left at their path, <c>.wh.NAME</c> deletes NAME and <c>.wh..wh..opq</c> empties its
/// directory of what lower layers put there. Hostile layers stay inside the root: absolute names and <c>..</c> are
/// refused, every path is resolved through <see cref="RootedPath"/> (symlinks followed as if the root were <c>/</c>),
/// a file is always created anew (never written through a symlink), hard links must name a regular file inside the
/// root (they are copied), devices and fifos are skipped, setuid and setgid bits dropped, and the image's entries and
/// bytes are capped. Ownership is not applied: everything belongs to the user Kennel runs as.
/// </summary>
internal sealed class LayerUnpacker(string root, OciPullOptions options, Action<string> log)
{
    private const UnixFileMode KeptBits = (UnixFileMode)0x3ff; // rwx for all, and sticky; never setuid or setgid
    private const string Whiteout = ".wh.";
    private const string Opaque = ".wh..wh..opq";

    private readonly RootedPath paths = new(root);
    private readonly Dictionary<string, UnixFileMode> directoryModes = new(StringComparer.Ordinal);
    private long bytes;

    /// <summary>The uncompressed bytes of the layers applied so far.</summary>
    public long UnpackedBytes => bytes;
    private int entries;

    /// <summary>Applies one layer; returns the digest of its uncompressed tar (its diff id).</summary>
    public string Apply(string blobPath, string what, CancellationToken ct)
    {
        var tar = new DigestingStream(LayerStreams.OpenTar(blobPath), options.MaxUnpackedBytes - bytes, TooLarge);
        using (tar)
        {
            var written = new HashSet<string>(StringComparer.Ordinal);
            var skipped = 0;
            try
            {
                using var reader = new TarReader(tar, leaveOpen: true);
                while (reader.GetNextEntry() is { } entry)
                {
                    ct.ThrowIfCancellationRequested();
                    if (++entries > options.MaxEntries)
                    {
                        throw new OciException(OciErrors.TooLarge, $"the image has more than {options.MaxEntries} entries");
                    }
                    skipped += ApplyEntry(entry, written) ? 0 : 1;
                }
                tar.Drain();
            }
            catch (Exception failed) when (failed is InvalidDataException or FormatException or EndOfStreamException or ArgumentException)
            {
                throw new OciException(OciErrors.UnsafeLayer, $"{what} is not a valid tar: {failed.Message}");
            }
            bytes += tar.BytesRead;
            if (skipped > 0)
            {
                log($"{what}: skipped {skipped} device, fifo or unsupported entries");
            }
            return tar.Digest;
        }
    }

    /// <summary>Gives directories their modes once everything is written, deepest first, so a read-only one never blocks a later write.</summary>
    public void Finish()
    {
        foreach (var (path, mode) in directoryModes.OrderByDescending(pair => pair.Key.Length))
        {
            if (RootedPath.KindOf(path) == RootedPath.Kind.Directory)
            {
                File.SetUnixFileMode(path, mode);
            }
        }
    }

    private bool ApplyEntry(TarEntry entry, HashSet<string> written)
    {
        var segments = Segments(entry.Name);
        if (segments.Count == 0)
        {
            return true;
        }
        var name = segments[^1];
        var parent = paths.Resolve(segments.Take(segments.Count - 1), create: true, entry.Name)!;
        if (name == Opaque)
        {
            ClearLower(parent, written);
            return true;
        }
        if (name.StartsWith(Whiteout, StringComparison.Ordinal))
        {
            var hidden = name[Whiteout.Length..];
            // Other .wh..wh. names are aufs bookkeeping, not deletions.
            if (!hidden.StartsWith(".wh.", StringComparison.Ordinal))
            {
                if (hidden is "" or "." or "..")
                {
                    throw RootedPath.Unsafe(entry.Name, "a whiteout must name a file");
                }
                var target = Path.Join(parent, hidden);
                if (!written.Contains(target))
                {
                    Remove(target);
                }
            }
            return true;
        }
        var destination = Path.Join(parent, name);
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                if (RootedPath.KindOf(destination) != RootedPath.Kind.Directory)
                {
                    Remove(destination);
                    Directory.CreateDirectory(destination);
                }
                directoryModes[destination] = entry.Mode & KeptBits;
                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                Remove(destination);
                WriteFile(destination, entry.DataStream, entry.Mode, entry.ModificationTime);
                break;
            case TarEntryType.SymbolicLink:
                if (entry.LinkName.Length == 0)
                {
                    throw RootedPath.Unsafe(entry.Name, "the symlink has no target");
                }
                Remove(destination);
                File.CreateSymbolicLink(destination, entry.LinkName);
                break;
            case TarEntryType.HardLink:
                var source = HardLinkSource(entry);
                if (source == destination)
                {
                    break;
                }
                Remove(destination);
                using (var content = new FileStream(source, FileMode.Open, FileAccess.Read))
                {
                    CountBytes(content.Length);
                    WriteFile(destination, content, File.GetUnixFileMode(source), File.GetLastWriteTimeUtc(source));
                }
                break;
            default:
                return false;
        }
        written.Add(destination);
        return true;
    }

    /// <summary>The regular file inside the root that a hard link names (tar link names are relative to the root).</summary>
    private string HardLinkSource(TarEntry entry)
    {
        var segments = Segments(entry.LinkName);
        var directory = segments.Count == 0 ? null : paths.Resolve(segments.Take(segments.Count - 1), create: false, entry.Name);
        var source = directory is null ? null : Path.Join(directory, segments[^1]);
        return source is not null && RootedPath.KindOf(source) == RootedPath.Kind.File
            ? source
            : throw RootedPath.Unsafe(entry.Name, $"its hard link target '{entry.LinkName}' is not a regular file of the image");
    }

    private static void WriteFile(string destination, Stream? content, UnixFileMode mode, DateTimeOffset modified)
    {
        // CreateNew fails on anything already there, a symlink included, so a file is never written through a link.
        using (var file = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            content?.CopyTo(file);
        }
        File.SetUnixFileMode(destination, mode & KeptBits);
        File.SetLastWriteTimeUtc(destination, modified.UtcDateTime);
    }

    /// <summary>Empties a directory of what lower layers left (an opaque whiteout), keeping what this layer wrote.</summary>
    private static void ClearLower(string directory, HashSet<string> written)
    {
        foreach (var child in Directory.EnumerateFileSystemEntries(directory).ToList())
        {
            if (!written.Contains(child))
            {
                Remove(child);
            }
            else if (RootedPath.KindOf(child) == RootedPath.Kind.Directory)
            {
                ClearLower(child, written);
            }
        }
    }

    /// <summary>Removes what is at <paramref name="path"/> itself: a symlink is removed, never followed.</summary>
    private static void Remove(string path)
    {
        switch (RootedPath.KindOf(path))
        {
            case RootedPath.Kind.Directory:
                Directory.Delete(path, recursive: true);
                break;
            case RootedPath.Kind.File or RootedPath.Kind.Link:
                File.Delete(path);
                break;
        }
    }

    /// <summary>An entry name's segments, without empty and "." ones; absolute names and ".." are refused.</summary>
    private static List<string> Segments(string name)
    {
        if (name.StartsWith('/'))
        {
            throw RootedPath.Unsafe(name, "absolute paths are not allowed in a layer");
        }
        var segments = name.Split('/').Where(segment => segment is not ("" or ".")).ToList();
        return segments.Contains("..") ? throw RootedPath.Unsafe(name, "'..' is not allowed in a layer path") : segments;
    }

    private void CountBytes(long more)
    {
        bytes += more;
        if (bytes > options.MaxUnpackedBytes)
        {
            throw TooLarge();
        }
    }

    private OciException TooLarge() => new(OciErrors.TooLarge, $"the image unpacks to more than {options.MaxUnpackedBytes} bytes");
}
