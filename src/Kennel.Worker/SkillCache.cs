using System.Collections.Concurrent;
using System.Security.Cryptography;
using Kennel.Contracts.Workers;
using Kennel.Sandbox;
using Microsoft.Extensions.Logging;

namespace Kennel.Worker;

/// <summary>
/// The skills this worker has mounted, by archive hash: each archive is fetched from the control plane once, kept in
/// <c>archives/</c> (private to the worker) and unpacked once into <c>trees/{hash}</c>, which sandboxes bind read-only.
/// The archive is checked against its hash when it arrives and every time it is read back, and a bad copy is fetched
/// again. The cache holds at most <see cref="MaxEntries"/> skills; the least recently used that no session has mounted
/// go first.
/// </summary>
/// <param name="directory">A folder that the sandboxes' host uids can search (the sandbox's shared folder), used by this worker alone.</param>
public sealed partial class SkillCache(string directory, ControlPlaneClient client, ILogger logger, int maxEntries = SkillCache.DefaultMaxEntries)
{
    public const int DefaultMaxEntries = 64;
    public const long MaxArchiveBytes = 32L << 20;

    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    // Searchable but not listable: a sandbox's uid can reach a tree it is given but cannot find the others.
    private const UnixFileMode SearchOnly = Private | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private readonly ConcurrentDictionary<string, SemaphoreSlim> preparing = new(StringComparer.Ordinal);
    private readonly CacheHolds holds = new();

    public int MaxEntries => maxEntries;

    /// <summary>The archive cached for <paramref name="sha256"/> (for tests and operators: it is checked on every read).</summary>
    public string ArchivePath(string sha256) => Path.Join(directory, "archives", sha256 + ".tar.gz");

    private string TreePath(string sha256) => Path.Join(directory, "trees", sha256);

    /// <summary>
    /// Makes each skill's folder ready and holds it until the returned mount is disposed. Throws a
    /// <see cref="SandboxException"/> with the code <c>skill_unavailable</c>, naming the skill, when one cannot be had.
    /// </summary>
    public async Task<SkillMount> MountAsync(IReadOnlyList<SessionSkill> skills, CancellationToken cancellationToken)
    {
        var mount = new SkillMount(this);
        if (skills.Count == 0)
        {
            return mount;
        }
        try
        {
            foreach (var skill in skills)
            {
                if (!IsHash(skill.Sha256))
                {
                    throw Unavailable(skill, "its hash is not 64 lower-case hex digits");
                }
                Hold(skill.Sha256);
                mount.Held.Add(skill.Sha256);
                mount.Skills.Add(new SandboxSkill(skill.Name, await PrepareAsync(skill, cancellationToken)));
            }
        }
        catch
        {
            mount.Dispose();
            throw;
        }
        Evict();
        return mount;
    }

    private async Task<string> PrepareAsync(SessionSkill skill, CancellationToken cancellationToken)
    {
        var once = preparing.GetOrAdd(skill.Sha256, _ => new SemaphoreSlim(1, 1));
        await once.WaitAsync(cancellationToken);
        try
        {
            Layout();
            var archive = await ArchiveAsync(skill, cancellationToken);
            var tree = TreePath(skill.Sha256);
            if (Directory.Exists(tree))
            {
                Directory.SetLastWriteTimeUtc(tree, DateTime.UtcNow);
                return tree;
            }
            var unpacking = Path.Join(directory, "trees", $".{skill.Sha256}.{Guid.NewGuid():N}");
            try
            {
                SkillTree.Extract(archive, unpacking);
                Directory.Move(unpacking, tree);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                // A refused archive is not kept: it would never become a tree, so the cap would never count it.
                CacheHolds.DeleteFolder(unpacking, logger);
                File.Delete(ArchivePath(skill.Sha256));
                throw Unavailable(skill, $"its archive cannot be unpacked: {e.Message}");
            }
            return tree;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unavailable(skill, $"the worker cannot write its skill cache under {directory}: {e.Message}");
        }
        finally
        {
            once.Release();
        }
    }

    /// <summary>The verified archive: the cached copy when it still matches its hash, else a new one from the control plane.</summary>
    private async Task<byte[]> ArchiveAsync(SessionSkill skill, CancellationToken cancellationToken)
    {
        var path = ArchivePath(skill.Sha256);
        if (File.Exists(path))
        {
            var cached = await File.ReadAllBytesAsync(path, cancellationToken);
            if (Matches(cached, skill.Sha256))
            {
                return cached;
            }
            LogCorruptCopy(logger, skill.Name, skill.Sha256);
            File.Delete(path);
        }
        byte[]? fetched;
        try
        {
            fetched = await client.FetchSkillAsync(skill.Sha256, MaxArchiveBytes, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or ControlPlaneException or InvalidDataException
            || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw Unavailable(skill, $"the control plane did not send its archive: {e.Message}");
        }
        if (fetched is null)
        {
            throw Unavailable(skill, "the control plane has no archive with its hash for this session (uninstalled since?)");
        }
        if (!Matches(fetched, skill.Sha256))
        {
            throw Unavailable(skill, "the archive the control plane sent does not match its SHA-256");
        }
        var writing = $"{path}.{Guid.NewGuid():N}";
        await using (var file = new FileStream(writing, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            await file.WriteAsync(fetched, cancellationToken);
        }
        File.Move(writing, path, overwrite: true);
        return fetched;
    }

    private void Layout()
    {
        Directory.CreateDirectory(directory, SearchOnly);
        Directory.CreateDirectory(Path.Join(directory, "archives"), Private);
        Directory.CreateDirectory(Path.Join(directory, "trees"), SearchOnly);
    }

    private void Hold(string sha256) => holds.Hold(sha256);

    private void Release(IEnumerable<string> hashes) => holds.Release(hashes);

    /// <summary>Removes the least recently used skills past the cap, never one a live sandbox has mounted.</summary>
    private void Evict()
    {
        var trees = Path.Join(directory, "trees");
        if (!Directory.Exists(trees))
        {
            return;
        }
        var cached = new DirectoryInfo(trees).EnumerateDirectories().Where(d => IsHash(d.Name)).OrderBy(d => d.LastWriteTimeUtc).ToList();
        foreach (var oldest in cached.Take(Math.Max(0, cached.Count - maxEntries)))
        {
            holds.RemoveUnlessHeld(oldest.Name, () =>
            {
                CacheHolds.DeleteFolder(oldest.FullName, logger);
                File.Delete(ArchivePath(oldest.Name));
            });
        }
    }

    private static bool Matches(byte[] bytes, string sha256) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(bytes), Convert.FromHexString(sha256));

    private static bool IsHash(string value) =>
        value.Length == 64 && value.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    private static SandboxException Unavailable(SessionSkill skill, string why) =>
        new("skill_unavailable", $"The skill '{skill.Name}' cannot be mounted: {why}.");

    [LoggerMessage(Level = LogLevel.Warning, Message = "The cached archive of skill {Name} ({Sha256}) does not match its hash; fetching it again")]
    private static partial void LogCorruptCopy(ILogger logger, string name, string sha256);

    /// <summary>A session's skill folders, held in the cache until the session's sandbox is gone.</summary>
    public sealed class SkillMount(SkillCache? cache) : IDisposable
    {
        private bool released;

        /// <summary>No skills, from no cache.</summary>
        public static SkillMount None => new(null);

        public List<SandboxSkill> Skills { get; } = [];

        internal List<string> Held { get; } = [];

        public void Dispose()
        {
            if (!released)
            {
                released = true;
                cache?.Release(Held);
            }
        }
    }
}
