using Microsoft.Extensions.Logging;

namespace Kennel.Worker;

/// <summary>
/// What a worker's cache (skills, snapshots) has in use, as a count per entry, so eviction never removes an entry a live
/// sandbox mounts; and the removal of an entry's folder, which a failure only logs.
/// </summary>
internal sealed partial class CacheHolds
{
    private readonly Dictionary<string, int> counts = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    public void Hold(string key)
    {
        lock (gate)
        {
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
    }

    public void Release(IEnumerable<string> keys)
    {
        lock (gate)
        {
            foreach (var key in keys)
            {
                if (--counts[key] == 0)
                {
                    counts.Remove(key);
                }
            }
        }
    }

    /// <summary>Runs <paramref name="remove"/> unless the entry is held, under the lock, so no hold begins meanwhile.</summary>
    public bool RemoveUnlessHeld(string key, Action remove)
    {
        lock (gate)
        {
            if (counts.ContainsKey(key))
            {
                return false;
            }
            remove();
            return true;
        }
    }

    public static void DeleteFolder(string folder, ILogger logger)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogNotRemoved(logger, folder, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove the cache entry {Path}: {Reason}")]
    private static partial void LogNotRemoved(ILogger logger, string path, string reason);
}
