using System.Globalization;
using System.Text;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Delivery;

/// <summary>
/// What one POST of a webhook came to, and what follows from it: delivered (2xx), worth retrying (a connection error, a
/// timeout, 408, 429, 5xx), or failed for good (a refused destination, a redirect, any other 4xx).
/// </summary>
public sealed record DeliveryAttempt(bool Delivered, bool Retryable, string? Error, int? HttpStatus, TimeSpan? RetryAfter)
{
    /// <summary>How much of an answer's body is kept in <c>last_error</c>; the rest is never read.</summary>
    public const int MaxBodyChars = 256;

    public static async Task<DeliveryAttempt> FromResponseAsync(HttpResponseMessage response, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var status = (int)response.StatusCode;
        if (status is >= 200 and <= 299)
        {
            return new(true, false, null, status, null);
        }
        var retryable = status is 408 or 429 or >= 500;
        var start = await StartOfBodyAsync(response.Content, cancellationToken).ConfigureAwait(false);
        var error = status is >= 300 and <= 399
            ? $"HTTP {status}: a redirect, which is not followed; point the webhook at the final URL"
            : $"HTTP {status}" + (start.Length > 0 ? $": {start}" : "");
        return new(false, retryable, error, status, retryable ? RetryAfterOf(response, now) : null);
    }

    public static DeliveryAttempt FromFailure(Exception failure, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(failure);
        if (OutboundAddresses.RefusalIn(failure) is { } refused)
        {
            return new(false, false, refused.Message, null, null);
        }
        if (failure is OperationCanceledException or TimeoutException)
        {
            return new(false, true, $"no answer within {timeout.TotalSeconds:0} seconds", null, null);
        }
        // The innermost message names the cause (connection refused, name not found, TLS) without the request's details.
        var cause = failure;
        while (cause.InnerException is not null)
        {
            cause = cause.InnerException;
        }
        return new(false, true, $"could not connect: {cause.Message}", null, null);
    }

    /// <summary>The wait a 429 or 503 asked for, in seconds or as a date; null when none or unreadable.</summary>
    private static TimeSpan? RetryAfterOf(HttpResponseMessage response, DateTimeOffset now)
    {
        var header = response.Headers.RetryAfter;
        var wait = header?.Delta ?? (header?.Date is { } date ? date - now : null);
        return wait is { } value && value > TimeSpan.Zero ? value : null;
    }

    /// <summary>The first <see cref="MaxBodyChars"/> characters of the answer, on one line, with control characters dropped.</summary>
    private static async Task<string> StartOfBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxBodyChars * 4];
        var read = 0;
        try
        {
            await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            int count;
            while (read < buffer.Length && (count = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false)) > 0)
            {
                read += count;
            }
        }
        catch (Exception failure) when (failure is HttpRequestException or IOException or OperationCanceledException)
        {
            // The answer's status is what counts; a body cut off (or too slow to arrive) is simply shorter.
        }
        var text = new StringBuilder();
        foreach (var c in Encoding.UTF8.GetString(buffer, 0, read))
        {
            if (text.Length == MaxBodyChars)
            {
                break;
            }
            text.Append(char.IsControl(c) ? ' ' : c);
        }
        return text.ToString().Trim();
    }
}

/// <summary>
/// When to try again: <see cref="MaxAttempts"/> attempts in all, the waits between them growing threefold from
/// <see cref="FirstWait"/> (30 s, 1.5 min, 4.5 min, 13.5 min, 40.5 min: about an hour), each spread by ±20% so
/// deliveries that failed together do not retry together. A Retry-After is honoured up to <see cref="MaxRetryAfter"/>.
/// </summary>
public static class DeliveryRetries
{
    public const int MaxAttempts = 6;
    public static readonly TimeSpan FirstWait = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(15);

    /// <summary>The longest any wait can be, for callers that must outwait one.</summary>
    public static TimeSpan LongestWait => TimeSpan.FromTicks(Math.Max(MaxRetryAfter.Ticks, Backoff(MaxAttempts - 1, 1).Ticks));

    /// <summary>The wait after attempt <paramref name="attempt"/> (from 1) failed; <paramref name="jitter"/> is in [0, 1].</summary>
    public static TimeSpan Backoff(int attempt, double jitter) =>
        FirstWait * Math.Pow(3, Math.Max(0, attempt - 1)) * (0.8 + (0.4 * Math.Clamp(jitter, 0, 1)));

    /// <summary>When attempt <paramref name="attempts"/> failed with <paramref name="outcome"/>: the next attempt's time, or null to give up.</summary>
    public static DateTimeOffset? NextAttempt(int attempts, DeliveryAttempt outcome, DateTimeOffset now, double jitter)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Delivered || !outcome.Retryable || attempts >= MaxAttempts)
        {
            return null;
        }
        var wait = outcome.RetryAfter is { } asked ? (asked < MaxRetryAfter ? asked : MaxRetryAfter) : Backoff(attempts, jitter);
        return now + wait;
    }

    /// <summary>The error kept on a delivery given up on after its attempts ran out.</summary>
    public static string GaveUp(int attempts, string? lastError) =>
        string.Create(CultureInfo.InvariantCulture, $"gave up after {attempts} attempts; the last: {lastError ?? "no outcome recorded"}");
}
