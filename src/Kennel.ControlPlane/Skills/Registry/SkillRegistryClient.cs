using System.Collections.Concurrent;
using Kennel.ControlPlane.Http;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Skills.Registry;

/// <summary>
/// Fetches registry indexes and skill archives. An index is parsed strictly and cached per URL
/// (<see cref="SkillRegistryOptions.CacheFor"/>; a failure for <see cref="SkillRegistryOptions.CacheFailuresFor"/>), so
/// browsing does not refetch; concurrent callers for one URL share one fetch, which runs under its own time limit, so a
/// caller that gives up does not fail it for the others. Every byte read is counted against a cap as it arrives.
/// </summary>
public sealed partial class SkillRegistryClient : IDisposable
{
    private readonly SkillRegistryOptions options;
    private readonly RegistryFetcher fetcher;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<string, CachedIndex> cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<RegistryIndex>>> fetching = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FetchOutcome> outcomes = new(StringComparer.Ordinal);

    public SkillRegistryClient(SkillRegistryOptions options, OutboundAddresses addresses, TimeProvider time, ILogger<SkillRegistryClient> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(addresses);
        this.options = options;
        this.time = time;
        this.logger = logger;
        fetcher = new RegistryFetcher(options, addresses);
    }

    /// <summary>
    /// The registry's index, from the cache when it was fetched recently unless <paramref name="fresh"/> (an install or
    /// upgrade reads what the registry serves now); throws <see cref="SkillRegistryException"/>.
    /// </summary>
    public async Task<RegistryIndex> IndexAsync(SkillRegistryConfig registry, CancellationToken ct, bool fresh = false)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var key = registry.Url.AbsoluteUri;
        if (!fresh && cache.TryGetValue(key, out var cached) && cached.Until > time.GetUtcNow())
        {
            return cached.Index ?? throw new SkillRegistryException(cached.Failure!.Code, cached.Failure.Message);
        }
        Lazy<Task<RegistryIndex>>? fetch = null;
        fetch = new Lazy<Task<RegistryIndex>>(() => FetchAndCacheAsync(registry.Url, key, fetch!));
        return await fetching.GetOrAdd(key, fetch).Value.WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The archive of <paramref name="version"/>, at most <paramref name="maxBytes"/> and never more than the index
    /// declares; not cached. The caller checks its SHA-256 (<see cref="SkillInspector.Inspect"/>).
    /// </summary>
    public async Task<byte[]> DownloadAsync(SkillRegistryConfig registry, RegistrySkillVersion version, long maxBytes, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(version);
        if (version.Size > maxBytes)
        {
            throw new SkillRegistryException(SkillRegistryErrors.ArchiveTooLarge,
                $"the archive of {version.Version} is {version.Size} bytes, over the {maxBytes} byte limit");
        }
        // A remote index naming a file:/// archive would read the host's files: only a local registry may.
        if (version.Archive.IsFile && !registry.Url.IsFile)
        {
            throw new SkillRegistryException(SkillRegistryErrors.Forbidden, "a registry served over the network cannot name a file:/// archive");
        }
        try
        {
            return await fetcher.ReadAsync(version.Archive, Math.Min(maxBytes, version.Size), options.ArchiveTimeout, RegistryFetcher.Archive, ct).ConfigureAwait(false);
        }
        catch (SkillRegistryException failed)
        {
            LogDownloadFailed(logger, SkillRegistryUrls.Redacted(version.Archive), failed.Code, failed.Message);
            throw;
        }
    }

    /// <summary>What the last real fetch of the registry's index gave; the cache does not change it.</summary>
    public RegistryStatus Status(SkillRegistryConfig registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var url = SkillRegistryUrls.Redacted(registry.Url);
        return outcomes.TryGetValue(registry.Url.AbsoluteUri, out var last)
            ? new RegistryStatus(registry.Name, url, registry.Trust, last.Answered, last.At, last.Error, last.SkillCount)
            : new RegistryStatus(registry.Name, url, registry.Trust, null, null, null, null);
    }

    public void Dispose() => fetcher.Dispose();

    /// <summary>Fetches under the fetch's own time limit, never a caller's token, and records and caches the outcome.</summary>
    private async Task<RegistryIndex> FetchAndCacheAsync(Uri url, string key, Lazy<Task<RegistryIndex>> fetch)
    {
        RegistryIndex? index = null;
        SkillRegistryException? failure = null;
        try
        {
            var indexUrl = SkillRegistryUrls.IndexUrl(url);
            var body = await fetcher.ReadAsync(indexUrl, options.MaxIndexBytes, options.Timeout, RegistryFetcher.Index, CancellationToken.None).ConfigureAwait(false);
            index = RegistryIndexParser.Parse(body, indexUrl);
        }
        catch (SkillRegistryException failed)
        {
            failure = failed;
            LogFetchFailed(logger, SkillRegistryUrls.Redacted(url), failed.Code, failed.Message);
        }
        var now = time.GetUtcNow();
        Bound(cache, now, entry => entry.Until);
        Bound(outcomes, now, entry => entry.At + options.CacheFor);
        cache[key] = new CachedIndex(index, failure, now + (index is null ? options.CacheFailuresFor : options.CacheFor));
        outcomes[key] = new FetchOutcome(index is not null, now, failure?.Message, index?.Skills.Count);
        // Only once the outcome is cached, so a caller arriving now finds one or the other.
        fetching.TryRemove(new KeyValuePair<string, Lazy<Task<RegistryIndex>>>(key, fetch));
        return index ?? throw failure!;
    }

    /// <summary>Makes room for one more entry: drops expired ones, then those expiring soonest.</summary>
    private void Bound<T>(ConcurrentDictionary<string, T> table, DateTimeOffset now, Func<T, DateTimeOffset> until)
    {
        if (table.Count < options.MaxCached)
        {
            return;
        }
        foreach (var entry in table.Where(entry => until(entry.Value) <= now))
        {
            table.TryRemove(entry);
        }
        foreach (var entry in table.OrderBy(entry => until(entry.Value)).Take(table.Count - options.MaxCached + 1).ToList())
        {
            table.TryRemove(entry);
        }
    }

    private sealed record CachedIndex(RegistryIndex? Index, SkillRegistryException? Failure, DateTimeOffset Until);

    private sealed record FetchOutcome(bool Answered, DateTimeOffset At, string? Error, int? SkillCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skill registry {Url} did not answer usably ({Code}): {Reason}")]
    private static partial void LogFetchFailed(ILogger logger, string url, string code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skill archive {Url} could not be downloaded ({Code}): {Reason}")]
    private static partial void LogDownloadFailed(ILogger logger, string url, string code, string reason);
}
