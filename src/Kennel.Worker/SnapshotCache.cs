using System.Collections.Concurrent;
using Kennel.Sandbox;
using Kennel.Sandbox.Snapshots;
using Microsoft.Extensions.Logging;

namespace Kennel.Worker;

/// <summary>
/// The built snapshots this worker holds, by digest: each image is fetched from the control plane once, checked against
/// its SHA-256 as it arrives, and unpacked into <c>roots/{digest}</c>, which sandboxes bind read-only as their root. The
/// cache keeps at most <see cref="MaxBytes"/> of images; the least recently used that no session is running on go first.
/// </summary>
/// <param name="directory">A folder the sandboxes' host uids can search (in the sandbox's shared folder), used by this worker alone.</param>
public sealed partial class SnapshotCache(string directory, ControlPlaneClient client, ILogger logger, long maxBytes = SnapshotCache.DefaultMaxBytes)
{
    public const long DefaultMaxBytes = 20L << 30;

    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    // Searchable but not listable: a sandbox's uid can reach the root it is given but cannot find the others.
    private const UnixFileMode SearchOnly = Private | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private readonly ConcurrentDictionary<string, SemaphoreSlim> preparing = new(StringComparer.Ordinal);
    private readonly CacheHolds holds = new();

    public long MaxBytes => maxBytes;

    /// <summary>The digests whose unpacked roots this worker holds now.</summary>
    public IReadOnlyList<string> Held()
    {
        var roots = Path.Join(directory, "roots");
        return Directory.Exists(roots) ? [.. new DirectoryInfo(roots).EnumerateDirectories().Select(d => d.Name).Where(SnapshotImage.IsDigest)] : [];
    }

    /// <summary>
    /// The unpacked root of <paramref name="digest"/>, held until the returned lease is disposed. Throws a
    /// <see cref="SandboxException"/> with the code <c>snapshot_unavailable</c>, and the reason, when it cannot be had.
    /// </summary>
    public async Task<SnapshotLease> AcquireAsync(string snapshot, string digest, CancellationToken cancellationToken)
    {
        if (!SnapshotImage.IsDigest(digest))
        {
            throw Unavailable(snapshot, "its digest is not 64 lower-case hex digits");
        }

        Hold(digest);
        var lease = new SnapshotLease(this, digest);
        try
        {
            lease.Root = await PrepareAsync(snapshot, digest, cancellationToken);
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        Evict();
        return lease;
    }

    private async Task<string> PrepareAsync(string snapshot, string digest, CancellationToken cancellationToken)
    {
        var once = preparing.GetOrAdd(digest, _ => new SemaphoreSlim(1, 1));
        await once.WaitAsync(cancellationToken);
        var image = Path.Join(directory, "images", digest + ".tar");
        var root = Path.Join(directory, "roots", digest);
        try
        {
            Directory.CreateDirectory(directory, SearchOnly);
            Directory.CreateDirectory(Path.Join(directory, "images"), Private);
            Directory.CreateDirectory(Path.Join(directory, "roots"), SearchOnly);
            if (Directory.Exists(root))
            {
                Directory.SetLastWriteTimeUtc(root, DateTime.UtcNow);
                return root;
            }

            var fetching = $"{image}.{Guid.NewGuid():N}";
            try
            {
                await client.FetchSnapshotAsync(digest, fetching, maxBytes, cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException or ControlPlaneException or InvalidDataException
                || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                File.Delete(fetching);
                throw Unavailable(snapshot, $"the control plane did not send its image: {e.Message}");
            }

            File.Move(fetching, image, overwrite: true);
            var unpacking = Path.Join(directory, "roots", $".{digest}.{Guid.NewGuid():N}");
            try
            {
                await SnapshotImage.ExtractAsync(image, unpacking, cancellationToken);
                File.SetUnixFileMode(unpacking, SearchOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                Directory.Move(unpacking, root);
            }
            catch (IOException e)
            {
                CacheHolds.DeleteFolder(unpacking, logger);
                File.Delete(image);
                throw Unavailable(snapshot, $"its image cannot be unpacked: {e.Message}");
            }

            return root;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unavailable(snapshot, $"the worker cannot write its snapshot cache under {directory}: {e.Message}");
        }
        finally
        {
            once.Release();
        }
    }

    private void Hold(string digest) => holds.Hold(digest);

    private void Release(string digest) => holds.Release([digest]);

    /// <summary>Removes the least recently used snapshots while the images pass the cap, never one a session runs on.</summary>
    private void Evict()
    {
        var roots = new DirectoryInfo(Path.Join(directory, "roots"));
        var cached = roots.EnumerateDirectories().Where(d => SnapshotImage.IsDigest(d.Name))
            .Select(d => (Root: d, Image: new FileInfo(Path.Join(directory, "images", d.Name + ".tar"))))
            .OrderBy(c => c.Root.LastWriteTimeUtc).ToList();
        var total = cached.Sum(c => c.Image.Exists ? c.Image.Length : 0);
        foreach (var (root, image) in cached)
        {
            if (total <= maxBytes)
            {
                break;
            }

            if (holds.RemoveUnlessHeld(root.Name, () =>
            {
                CacheHolds.DeleteFolder(root.FullName, logger);
                File.Delete(image.FullName);
            }))
            {
                total -= image.Exists ? image.Length : 0;
                LogEvicted(logger, root.Name);
            }
        }
    }

    private static SandboxException Unavailable(string snapshot, string why) =>
        new("snapshot_unavailable", $"The snapshot '{snapshot}' cannot be had on this worker: {why}.");

    [LoggerMessage(Level = LogLevel.Information, Message = "Evicted snapshot {Digest} from the worker's cache")]
    private static partial void LogEvicted(ILogger logger, string digest);

    /// <summary>A session's hold on a snapshot's root, kept from eviction until its sandbox is gone.</summary>
    public sealed class SnapshotLease(SnapshotCache? cache, string digest) : IDisposable
    {
        private bool released;

        public string? Root { get; internal set; }

        public void Dispose()
        {
            if (!released)
            {
                released = true;
                cache?.Release(digest);
            }
        }
    }
}
