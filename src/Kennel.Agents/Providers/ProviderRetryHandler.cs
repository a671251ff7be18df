using System.Globalization;
using System.Net;

namespace Kennel.Agents.Providers;

/// <summary>
/// Retries a provider call that failed in a way worth retrying: a 429, a 5xx, or a connection that dropped before an
/// answer came. It waits what the provider asked (<c>retry-after-ms</c>, then <c>Retry-After</c> in seconds or as a
/// date), or else backs off exponentially with jitter, and stops after <see cref="MaxAttempts"/> or when the provider
/// asks for a wait longer than <see cref="MaxDelay"/>, returning the last answer for the caller to report. The SDKs'
/// own retries are turned off, so this is the one policy for both.
/// </summary>
public sealed class ProviderRetryHandler(TimeProvider time) : DelegatingHandler
{
    public int MaxAttempts { get; init; } = 4;

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan FirstBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException) when (attempt < MaxAttempts && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(Backoff(attempt), time, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (!Retryable(response.StatusCode) || attempt >= MaxAttempts)
            {
                return response;
            }
            var delay = RequestedDelay(response) ?? Backoff(attempt);
            if (delay > MaxDelay)
            {
                return response;
            }
            response.Dispose();
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool Retryable(HttpStatusCode status) => status == HttpStatusCode.TooManyRequests || (int)status >= 500;

    private TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(MaxDelay.TotalMilliseconds, FirstBackoff.TotalMilliseconds * Math.Pow(2, attempt - 1));
#pragma warning disable CA5394 // Jitter spreads retries; it needs no cryptographic randomness.
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() / 2)));
#pragma warning restore CA5394
    }

    private TimeSpan? RequestedDelay(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var milliseconds)
            && double.TryParse(milliseconds.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0)
        {
            return TimeSpan.FromMilliseconds(ms);
        }
        return response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
            _ => null,
        };
    }
}
