using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Workers;

namespace Kennel.Worker;

/// <summary>The worker's side of the protocol, over HTTP. Everything the worker knows about sessions comes through here.</summary>
public sealed class ControlPlaneClient(HttpClient http)
{
    public static HttpClient CreateHttpClient(Uri baseAddress, string? credential)
    {
        var client = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2) })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (credential is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        }
        return client;
    }

    public static async Task<EnrollResponse> EnrollAsync(HttpClient http, EnrollRequest request, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("v1/worker/enroll", request, KennelJson.Default.EnrollRequest, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.EnrollResponse, cancellationToken))!;
    }

    public async Task<PollResponse> PollAsync(PollRequest request, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("v1/worker/poll", request, KennelJson.Default.PollRequest, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.PollResponse, cancellationToken))!;
    }

    /// <summary>Sends a report. Null means the control plane no longer considers the session live here: drop it.</summary>
    public async Task<ReportResponse?> ReportAsync(string sessionId, SessionReport report, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync($"v1/worker/sessions/{sessionId}/report", report, KennelJson.Default.SessionReport,
            cancellationToken);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            return null;
        }
        await EnsureSuccessAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.ReportResponse, cancellationToken))!;
    }

    /// <summary>
    /// A skill archive by hash, for a session this worker holds. Null when the control plane does not give it (it answers
    /// an unknown hash and one the worker may not read alike). At most <paramref name="maxBytes"/> are read.
    /// </summary>
    public async Task<byte[]?> FetchSkillAsync(string sha256, long maxBytes, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"v1/worker/skills/{sha256}", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        await EnsureSuccessAsync(response, cancellationToken);
        if (response.Content.Headers.ContentLength > maxBytes)
        {
            throw new InvalidDataException($"the archive is {response.Content.Headers.ContentLength} bytes, over the worker's limit of {maxBytes}");
        }
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new InvalidDataException($"the archive is over the worker's limit of {maxBytes} bytes");
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// A snapshot image by digest, for a session this worker holds, streamed to <paramref name="destination"/> and checked
    /// against the digest as it arrives. Throws <see cref="InvalidDataException"/> for bytes that do not match (a corrupted
    /// or tampered transfer), an image over <paramref name="maxBytes"/>, or one the control plane does not give.
    /// </summary>
    public async Task FetchSnapshotAsync(string digest, string destination, long maxBytes, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"v1/worker/snapshots/{digest}", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new InvalidDataException("the control plane has no image with that digest for a session of this worker");
        }
        await EnsureSuccessAsync(response, cancellationToken);
        if (response.Content.Headers.ContentLength > maxBytes)
        {
            throw new InvalidDataException($"the image is {response.Content.Headers.ContentLength} bytes, over the worker's cache limit of {maxBytes}");
        }
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        await using (var file = new FileStream(destination, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            Options = FileOptions.Asynchronous,
        }))
        {
            var chunk = new byte[1 << 16];
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                total += read;
                if (total > maxBytes)
                {
                    throw new InvalidDataException($"the image is over the worker's cache limit of {maxBytes} bytes");
                }
                hash.AppendData(chunk, 0, read);
                await file.WriteAsync(chunk.AsMemory(0, read), cancellationToken);
            }
        }
        if (Convert.ToHexStringLower(hash.GetHashAndReset()) != digest)
        {
            throw new InvalidDataException("the image the control plane sent does not match its SHA-256 digest");
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        Problem? problem = null;
        try
        {
            problem = await response.Content.ReadFromJsonAsync(KennelJson.Default.Problem, cancellationToken);
        }
        catch (System.Text.Json.JsonException)
        {
            // Not a problem document (a proxy's error page, say); the status code is all there is.
        }
        throw new ControlPlaneException(response.StatusCode, problem?.Code, problem?.Detail ?? problem?.Title ?? response.ReasonPhrase ?? "");
    }
}

public sealed class ControlPlaneException(HttpStatusCode status, string? code, string message)
    : Exception($"The control plane answered {(int)status} {code}: {message}")
{
    public HttpStatusCode Status { get; } = status;
    public string? Code { get; } = code;

    /// <summary>Client errors other than a rate limit will not fix themselves by retrying.</summary>
    public bool IsPermanent => (int)Status is >= 400 and < 500 and not 408 and not 429;
}
