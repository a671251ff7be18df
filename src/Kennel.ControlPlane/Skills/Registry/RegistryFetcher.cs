using System.Globalization;
using System.Net;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Skills.Registry;

/// <summary>
/// Reads one URL of a registry, network or local, under a deadline that covers everything (connect, redirects, body)
/// and a byte cap counted while the body streams in, whatever Content-Length claims. Network reads connect only through
/// <see cref="OutboundAddresses"/>; the URL, and each redirect, which is followed by hand, is checked by
/// <see cref="SkillRegistryUrls"/> first.
/// </summary>
internal sealed class RegistryFetcher(SkillRegistryOptions options, OutboundAddresses addresses) : IDisposable
{
    /// <summary>The codes and wording of a failure, by what was being read.</summary>
    internal sealed record Target(string Unreachable, string Timeout, string TooLarge, string What);

    public static readonly Target Index = new(SkillRegistryErrors.Unreachable, SkillRegistryErrors.Timeout, SkillRegistryErrors.TooLarge, "the index");
    public static readonly Target Archive = new(SkillRegistryErrors.ArchiveUnreachable, SkillRegistryErrors.ArchiveUnreachable, SkillRegistryErrors.ArchiveTooLarge, "the archive");

    private readonly HttpClient http = new(addresses.Handler(options.Timeout)) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };

    public async Task<byte[]> ReadAsync(Uri url, long limit, TimeSpan timeout, Target target, CancellationToken ct)
    {
        if (SkillRegistryUrls.Refusal(url, options) is { } refusal)
        {
            throw new SkillRegistryException(SkillRegistryErrors.Forbidden, refusal);
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            return url.IsFile
                ? await ReadFileAsync(url, limit, target, deadline.Token).ConfigureAwait(false)
                : await ReadNetworkAsync(url, limit, target, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new SkillRegistryException(target.Timeout,
                $"{target.What} at {SkillRegistryUrls.Redacted(url)} did not arrive within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds");
        }
        catch (Exception failed) when (OutboundAddresses.RefusalIn(failed) is { } refused)
        {
            throw new SkillRegistryException(SkillRegistryErrors.Forbidden, $"{SkillRegistryUrls.Redacted(url)}: {refused.Message}");
        }
        catch (Exception failed) when (failed is HttpRequestException or IOException or UnauthorizedAccessException)
        {
            throw new SkillRegistryException(target.Unreachable, $"{target.What} at {SkillRegistryUrls.Redacted(url)} could not be read: {failed.Message}");
        }
    }

    private async Task<byte[]> ReadNetworkAsync(Uri url, long limit, Target target, CancellationToken ct)
    {
        var current = url;
        for (var redirects = 0; ; redirects++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            request.Headers.UserAgent.ParseAdd("Kennel");
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                current = Redirected(current, location, redirects, target);
                continue;
            }
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new SkillRegistryException(target.Unreachable,
                    $"{target.What} at {SkillRegistryUrls.Redacted(current)} answered HTTP {(int)response.StatusCode}");
            }
            if (response.Content.Headers.ContentLength > limit)
            {
                throw TooLarge(current, limit, target);
            }
            var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                return await BoundedAsync(body, current, limit, target, ct).ConfigureAwait(false);
            }
        }
    }

    private Uri Redirected(Uri from, Uri location, int redirects, Target target)
    {
        if (redirects == SkillRegistryOptions.MaxRedirects)
        {
            throw new SkillRegistryException(target.Unreachable, $"{target.What} at {SkillRegistryUrls.Redacted(from)} redirects more than {SkillRegistryOptions.MaxRedirects} times");
        }
        var next = new Uri(from, location);
        var refusal = next.Scheme is "https" or "http"
            ? SkillRegistryUrls.Refusal(next, options)
            : $"{SkillRegistryUrls.Redacted(next)} is not an http or https URL";
        return refusal is null
            ? next
            : throw new SkillRegistryException(SkillRegistryErrors.Forbidden, $"{SkillRegistryUrls.Redacted(from)} redirects to a URL Kennel may not fetch: {refusal}");
    }

    private async Task<byte[]> ReadFileAsync(Uri url, long limit, Target target, CancellationToken ct)
    {
        var path = SkillRegistryUrls.LocalPath(url, options, out var refusal)
            ?? throw new SkillRegistryException(SkillRegistryErrors.Forbidden, refusal!);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (file.ConfigureAwait(false))
        {
            return file.Length > limit ? throw TooLarge(url, limit, target) : await BoundedAsync(file, url, limit, target, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Reads to the end, failing as soon as one byte past <paramref name="limit"/> arrives.</summary>
    private static async Task<byte[]> BoundedAsync(Stream body, Uri url, long limit, Target target, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw TooLarge(url, limit, target);
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static SkillRegistryException TooLarge(Uri url, long limit, Target target) =>
        new(target.TooLarge, $"{target.What} at {SkillRegistryUrls.Redacted(url)} is larger than {limit} bytes");

    public void Dispose() => http.Dispose();
}
