using System.Collections.Concurrent;
using System.Net;
using Kennel.ControlPlane.Http;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// Client ID Metadata Documents: a client_id that is an https URL names a JSON document describing the client. The fetch
/// is guarded, because the URL is chosen by whoever calls /oauth/authorize: only public addresses (unless
/// <see cref="OAuthOptions.CimdAllowPrivateAddresses"/>), checked on the address actually connected to (so DNS cannot
/// point a public name at a private address), no redirects, 5 seconds, 64 KiB. Documents are cached for 5 minutes,
/// and failures for 1 minute, so a client_id cannot be used to make Kennel fetch repeatedly; the cache holds at most
/// <see cref="MaxCached"/> URLs. Concurrent requests for one URL share one fetch, which runs under its own time limit:
/// a caller that gives up neither cancels it for the others nor leaves a failure in the cache.
/// </summary>
public sealed partial class ClientMetadataDocuments : IDisposable
{
    public const int MaxBytes = 64 * 1024;
    public const int MaxCached = 1000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan CacheFailuresFor = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, (OAuthClient? Client, DateTimeOffset Until)> cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<OAuthClient?>>> fetching = new(StringComparer.Ordinal);
    private readonly HttpClient http;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    public ClientMetadataDocuments(OAuthOptions options, TimeProvider time, ILogger<ClientMetadataDocuments> logger)
    {
        this.time = time;
        this.logger = logger;
        var handler = (options.CimdAllowPrivateAddresses ? OutboundAddresses.Any : OutboundAddresses.PublicOnly).Handler(Timeout);
        if (options.CimdCertificateValidation is { } validation)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = validation;
        }
        http = new HttpClient(handler) { Timeout = Timeout, MaxResponseContentBufferSize = MaxBytes };
    }

    /// <summary>How many URLs the cache holds (for tests).</summary>
    public int Cached => cache.Count;

    public async Task<OAuthClient?> FindAsync(string url, CancellationToken cancellationToken)
    {
        if (cache.TryGetValue(url, out var cached) && cached.Until > time.GetUtcNow())
        {
            return cached.Client;
        }
        var fetch = new Lazy<Task<OAuthClient?>>(() => FetchAndCacheAsync(url));
        var shared = fetching.GetOrAdd(url, fetch);
        if (ReferenceEquals(shared, fetch))
        {
            _ = fetch.Value.ContinueWith(_ => fetching.TryRemove(new KeyValuePair<string, Lazy<Task<OAuthClient?>>>(url, fetch)), TaskScheduler.Default);
        }
        return await shared.Value.WaitAsync(cancellationToken);
    }

    /// <summary>Fetches under the HTTP client's own 5-second limit, never the caller's token, and caches the outcome.</summary>
    private async Task<OAuthClient?> FetchAndCacheAsync(string url)
    {
        OAuthClient? client = null;
        try
        {
            client = await FetchAsync(url, CancellationToken.None);
        }
        catch (Exception failed) when (failed is HttpRequestException or TaskCanceledException or ClientMetadataException or IOException)
        {
            LogFetchFailed(logger, url, failed.Message);
        }
        var now = time.GetUtcNow();
        if (cache.Count >= MaxCached)
        {
            Evict(now);
        }
        cache[url] = (client, now + (client is null ? CacheFailuresFor : CacheFor));
        return client;
    }

    /// <summary>Drops expired entries and, if the cache is still full, those expiring soonest.</summary>
    private void Evict(DateTimeOffset now)
    {
        foreach (var entry in cache.Where(entry => entry.Value.Until <= now))
        {
            cache.TryRemove(entry);
        }
        var excess = cache.Count - MaxCached + 1;
        if (excess > 0)
        {
            foreach (var entry in cache.OrderBy(entry => entry.Value.Until).Take(excess).ToList())
            {
                cache.TryRemove(entry);
            }
        }
    }

    public void Dispose() => http.Dispose();

    /// <summary>Whether an address is one a client_id URL may make Kennel connect to.</summary>
    public static bool IsPublic(IPAddress address) => OutboundAddresses.Kind(address) is null;

    private async Task<OAuthClient> FetchAsync(string url, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || uri.AbsolutePath.Length <= 1
            || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
        {
            throw new ClientMetadataException("invalid_client", "A client_id URL is https with a path, and no fragment or credentials.");
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new ClientMetadataException("invalid_client", $"The metadata document answered {(int)response.StatusCode}.");
        }
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var metadata = ClientRegistry.ParseMetadata(body)
            ?? throw new ClientMetadataException("invalid_client", "The metadata document is not a JSON object.");
        if (!string.Equals(metadata.ClientId, url, StringComparison.Ordinal))
        {
            throw new ClientMetadataException("invalid_client", "The metadata document's client_id is not its own URL.");
        }
        if (metadata.TokenEndpointAuthMethod is not (null or "none"))
        {
            throw new ClientMetadataException("invalid_client", "A metadata document client is public: token_endpoint_auth_method is 'none'.");
        }
        var (redirectUris, name, scopes, _) = ClientRegistry.Validate(metadata);
        return new OAuthClient(url, name ?? uri.Host, redirectUris, scopes, null);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client metadata document {Url} was not usable: {Reason}")]
    private static partial void LogFetchFailed(ILogger logger, string url, string reason);
}
