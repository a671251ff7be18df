namespace Kennel.ControlPlane.Snapshots.Oci;

/// <summary>
/// Paths inside an unpacked root, resolved the way the root's own processes would see them: symlinks are followed
/// with the root as <c>/</c>, so an absolute target or a chain of <c>..</c> ends at the root, never above it. Every
/// write of a layer goes through <see cref="Resolve"/>, which is what keeps a hostile layer (a symlink to
/// <c>/etc</c>, then a file under it) inside the root.
/// </summary>
internal sealed class RootedPath(string root)
{
    private const int MaxLinkHops = 40;

    public string Root { get; } = Path.GetFullPath(root);

    public enum Kind
    {
        None,
        File,
        Directory,
        Link,
    }

    /// <summary>What is at <paramref name="path"/> itself, a symlink not followed.</summary>
    public static Kind KindOf(string path)
    {
        var info = new FileInfo(path);
        return info.LinkTarget is not null ? Kind.Link
            : Directory.Exists(path) ? Kind.Directory
            : info.Exists ? Kind.File
            : Kind.None;
    }

    /// <summary>
    /// The real directory (no symlink in it) that <paramref name="segments"/> name inside the root, following symlinks
    /// within the root; missing directories are created when <paramref name="create"/>, otherwise the result is null.
    /// </summary>
    public string? Resolve(IEnumerable<string> segments, bool create, string entry)
    {
        var real = new List<string>();
        var pending = new LinkedList<string>(segments);
        var hops = 0;
        while (pending.First is { } first)
        {
            pending.RemoveFirst();
            var segment = first.Value;
            if (segment is "" or ".")
            {
                continue;
            }
            if (segment == "..")
            {
                if (real.Count > 0)
                {
                    real.RemoveAt(real.Count - 1);
                }
                continue;
            }
            var candidate = Join(real, segment);
            switch (KindOf(candidate))
            {
                case Kind.Directory:
                    real.Add(segment);
                    break;
                case Kind.Link:
                    if (++hops > MaxLinkHops)
                    {
                        throw Unsafe(entry, "its path goes through more than 40 symlinks");
                    }
                    var target = new FileInfo(candidate).LinkTarget!;
                    if (target.StartsWith('/'))
                    {
                        real.Clear();
                    }
                    foreach (var part in target.Split('/').Reverse())
                    {
                        pending.AddFirst(part);
                    }
                    break;
                case Kind.None when create:
                    Directory.CreateDirectory(candidate);
                    real.Add(segment);
                    break;
                case Kind.None:
                    return null;
                default:
                    throw Unsafe(entry, $"'{Relative(candidate)}' is not a directory");
            }
        }
        return Join(real, null);
    }

    /// <summary>The path of <paramref name="path"/> relative to the root, with '/' separators, for messages and bookkeeping.</summary>
    public string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');

    public static OciException Unsafe(string entry, string why) => new(OciErrors.UnsafeLayer, $"layer entry '{entry}' was refused: {why}");

    private string Join(List<string> real, string? last)
    {
        var path = real.Count == 0 ? Root : Path.Join(Root, string.Join('/', real));
        return last is null ? path : Path.Join(path, last);
    }
}
