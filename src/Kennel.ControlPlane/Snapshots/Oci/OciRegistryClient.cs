using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Snapshots.Oci;

/// <summary>
/// The OCI distribution API's read side for one repository: manifests and blobs, with the registry's token challenge
/// (anonymous, or with a login), redirects followed by hand (at most 5, each checked, credentials never sent to
/// another host) and bounded reads. Blobs are written to a file while their digest and size are checked.
/// </summary>
internal sealed class OciRegistryClient(OciReference image, OciPullOptions options, OciCredentials? credentials) : IDisposable
{
    private const int MaxRedirects = 5;
    private const int MaxSmallBody = 64 << 10;

    private readonly HttpClient http = new(options.Addresses.Handler(options.RequestTimeout)) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly Uri registry = new($"{SchemeFor(image.ApiHost, options)}://{image.ApiHost}/v2/");
    private AuthenticationHeaderValue? authorization;

    public string Repository => $"{image.Registry}/{image.Repository}";

    /// <summary>The manifest or index named by <paramref name="reference"/> (a tag or digest), with its declared media type.</summary>
    public async Task<(byte[] Body, string? MediaType)> GetManifestAsync(string reference, CancellationToken ct)
    {
        using var response = await SendAsync(new Uri(registry, $"{image.Repository}/manifests/{reference}"), OciManifests.Accepted, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            var what = OciDigest.IsValid(reference) ? $"no manifest {reference}" : $"no tag '{reference}'";
            throw new OciException(OciErrors.NotFound, $"{Repository} has {what}{await RegistryErrorAsync(response, ct).ConfigureAwait(false)}");
        }
        var body = await ReadBoundedAsync(response, options.MaxManifestBytes, $"the manifest of {Repository}", ct).ConfigureAwait(false);
        return (body, response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>Downloads a blob to <paramref name="path"/>, refusing it unless its size and digest are the descriptor's.</summary>
    public async Task DownloadBlobAsync(OciDescriptor blob, string path, CancellationToken ct)
    {
        if (blob.Size > options.MaxBlobBytes)
        {
            throw new OciException(OciErrors.TooLarge, $"blob {blob.Digest} of {Repository} is {blob.Size} bytes, over the {options.MaxBlobBytes} byte limit");
        }
        using var response = await SendAsync(new Uri(registry, $"{image.Repository}/blobs/{blob.Digest}"), [], ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new OciException(OciErrors.NotFound, $"{Repository} has no blob {blob.Digest}{await RegistryErrorAsync(response, ct).ConfigureAwait(false)}");
        }
        var body = new DigestingStream(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false), blob.Size, () => Mismatch(blob, "is longer than its descriptor says"));
        await using (body.ConfigureAwait(false))
        {
            var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                try
                {
                    await body.CopyToAsync(file, ct).ConfigureAwait(false);
                }
                catch (HttpIOException broken)
                {
                    throw new OciException(OciErrors.Unreachable, $"the download of blob {blob.Digest} of {Repository} broke off: {broken.Message}");
                }
            }
            if (body.BytesRead != blob.Size)
            {
                throw Mismatch(blob, $"is {body.BytesRead} bytes, not the {blob.Size} its descriptor says");
            }
            if (body.Digest != blob.Digest)
            {
                throw Mismatch(blob, $"hashes to {body.Digest}");
            }
        }
    }

    private OciException Mismatch(OciDescriptor blob, string what) =>
        new(OciErrors.DigestMismatch, $"blob {blob.Digest} of {Repository} {what}: refused as corrupted or tampered with");

    private async Task<HttpResponseMessage> SendAsync(Uri url, string[] accept, CancellationToken ct)
    {
        var authenticated = false;
        for (var redirects = 0; ;)
        {
            var sameHost = url.Authority == registry.Authority;
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.UserAgent.ParseAdd("Kennel");
            foreach (var type in accept)
            {
                request.Headers.Accept.ParseAdd(type);
            }
            request.Headers.Authorization = sameHost ? authorization : null;
            var response = await SendOnceAsync(request, ct).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Unauthorized && sameHost && !authenticated)
            {
                var challenge = RegistryChallenge.Parse(response.Headers.WwwAuthenticate.ToString());
                response.Dispose();
                authorization = await AuthorizeAsync(challenge, ct).ConfigureAwait(false);
                authenticated = true;
                continue;
            }
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                response.Dispose();
                url = Redirected(url, location, ++redirects);
                continue;
            }
            if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound)
            {
                return response;
            }
            using (response)
            {
                var detail = await RegistryErrorAsync(response, ct).ConfigureAwait(false);
                throw response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                    ? new OciException(OciErrors.Unauthorized, $"{Repository} refused access (HTTP {(int)response.StatusCode}){detail}" + (credentials is null ? "; it may need a login" : "; check the login's rights"))
                    : new OciException(OciErrors.Unreachable, $"{Repository} answered HTTP {(int)response.StatusCode}{detail}");
            }
        }
    }

    /// <summary>Sends one request, giving the answer's headers <see cref="OciPullOptions.RequestTimeout"/> to arrive.</summary>
    private async Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.RequestTimeout);
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new OciException(OciErrors.Timeout, $"{Redacted(request.RequestUri!)} did not answer within {options.RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds");
        }
        catch (Exception failed) when (OutboundAddresses.RefusalIn(failed) is { } refused)
        {
            throw new OciException(OciErrors.Forbidden, $"{Redacted(request.RequestUri!)}: {refused.Message}");
        }
        catch (HttpRequestException failed)
        {
            throw new OciException(OciErrors.Unreachable, $"{Redacted(request.RequestUri!)} could not be reached: {failed.Message}");
        }
    }

    /// <summary>The Authorization header that answers a challenge: a token from the realm (Bearer) or the login itself (Basic).</summary>
    private async Task<AuthenticationHeaderValue> AuthorizeAsync(RegistryChallenge? challenge, CancellationToken ct)
    {
        if (challenge?.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) == true)
        {
            return credentials is null
                ? throw new OciException(OciErrors.Unauthorized, $"{Repository} needs a login (HTTP Basic), and none was given")
                : new AuthenticationHeaderValue("Basic", BasicValue(credentials));
        }
        if (challenge?.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase) != true || challenge["realm"] is not { } realmText
            || !Uri.TryCreate(realmText, UriKind.Absolute, out var realm))
        {
            throw new OciException(OciErrors.Unauthorized, $"{Repository} asked for authentication without a Bearer realm or Basic challenge Kennel can answer");
        }
        if (!MayReach(realm))
        {
            throw new OciException(OciErrors.Forbidden, $"{Repository}'s token service {Redacted(realm)} is not https");
        }
        var query = new StringBuilder("?");
        if (challenge["service"] is { } service)
        {
            query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
        }
        // Only ever ask for pull, whatever scope the challenge proposes.
        query.Append("scope=").Append(Uri.EscapeDataString($"repository:{image.Repository}:pull"));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(realm, realm.AbsolutePath + (realm.Query.Length > 1 ? realm.Query + "&" + query.ToString()[1..] : query.ToString())));
        request.Headers.UserAgent.ParseAdd("Kennel");
        if (credentials is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", BasicValue(credentials));
        }
        using var response = await SendOnceAsync(request, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new OciException(OciErrors.Unauthorized, $"the token service of {Repository} answered HTTP {(int)response.StatusCode}"
                + (credentials is null ? "; the image may need a login" : "; the login was refused"));
        }
        var body = await ReadBoundedAsync(response, MaxSmallBody, "the token", ct).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            var token = root.ValueKind != JsonValueKind.Object ? null
                : root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                : root.TryGetProperty("access_token", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
            return string.IsNullOrEmpty(token)
                ? throw new OciException(OciErrors.Unauthorized, $"the token service of {Repository} answered without a token")
                : new AuthenticationHeaderValue("Bearer", token);
        }
        catch (JsonException)
        {
            throw new OciException(OciErrors.Unauthorized, $"the token service of {Repository} answered with something other than JSON");
        }
    }

    private Uri Redirected(Uri from, Uri location, int redirects)
    {
        if (redirects > MaxRedirects)
        {
            throw new OciException(OciErrors.Unreachable, $"{Redacted(from)} redirects more than {MaxRedirects} times");
        }
        var next = new Uri(from, location);
        return MayReach(next)
            ? next
            : throw new OciException(OciErrors.Forbidden, $"{Redacted(from)} redirects to {Redacted(next)}, which is neither https nor plain http to loopback");
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, long limit, string what, CancellationToken ct)
    {
        if (response.Content.Headers.ContentLength > limit)
        {
            throw new OciException(OciErrors.TooLarge, $"{what} is larger than {limit} bytes");
        }
        var body = new DigestingStream(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false), limit,
            () => new OciException(OciErrors.TooLarge, $"{what} is larger than {limit} bytes"));
        await using (body.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            await body.CopyToAsync(buffer, ct).ConfigureAwait(false);
            return buffer.ToArray();
        }
    }

    /// <summary>The registry's own words from an error body (<c>{"errors":[{"code":…,"message":…}]}</c>), as "; CODE: message", or nothing.</summary>
    private static async Task<string> RegistryErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            using var document = JsonDocument.Parse(await ReadBoundedAsync(response, MaxSmallBody, "an error", ct).ConfigureAwait(false));
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("errors", out var errors)
                && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0 && errors[0].ValueKind == JsonValueKind.Object)
            {
                var first = errors[0];
                var code = first.TryGetProperty("code", out var c) ? c.ToString() : "";
                var message = first.TryGetProperty("message", out var m) ? m.ToString() : "";
                return $" ({code}: {message[..Math.Min(message.Length, 200)]})";
            }
        }
        catch (Exception failed) when (failed is JsonException or OciException or HttpRequestException or IOException)
        {
            // An error body that is not the registry's JSON adds nothing to the status code.
        }
        return "";
    }

    private static string BasicValue(OciCredentials login) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{login.Username}:{login.Password}"));

    /// <summary>https anywhere; plain http only where <see cref="SchemeFor"/> would choose it.</summary>
    private bool MayReach(Uri url) =>
        url.Scheme == Uri.UriSchemeHttps || (url.Scheme == Uri.UriSchemeHttp && SchemeFor(url.Authority, options) == Uri.UriSchemeHttp);

    /// <summary>http for a loopback host or one the options call insecure, https for every other.</summary>
    internal static string SchemeFor(string authority, OciPullOptions options)
    {
        var host = authority;
        if (host.StartsWith('['))
        {
            host = host[..(host.IndexOf(']', StringComparison.Ordinal) + 1)];
        }
        else if (host.LastIndexOf(':') is var colon and > 0)
        {
            host = host[..colon];
        }
        var loopback = host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
        return loopback || options.InsecureRegistries.Contains(authority, StringComparer.OrdinalIgnoreCase) ? Uri.UriSchemeHttp : Uri.UriSchemeHttps;
    }

    private static string Redacted(Uri url) => $"{url.Scheme}://{url.Authority}{url.AbsolutePath}";

    public void Dispose() => http.Dispose();
}
