using System.Net.Http.Headers;
using Kennel.ControlPlane.Delivery;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Channels;

/// <summary>
/// The one HTTP client channels call platforms with: it connects only where <see cref="OutboundAddresses"/> allows,
/// follows no redirect, and gives each request <see cref="WebhookSender.AttemptTimeout"/>, its answer's body included.
/// </summary>
public sealed class ChannelHttp : IDisposable
{
    private static readonly ProductInfoHeaderValue UserAgent = new("Kennel", HealthEndpoints.Version);
    private readonly HttpClient http;

    public ChannelHttp(OutboundAddresses addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        http = new HttpClient(addresses.Handler(WebhookSender.AttemptTimeout)) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>
    /// Sends <paramref name="request"/> and reads its answer with <paramref name="read"/>, all within the time limit; a
    /// failure on the way (refused, unreachable, too slow) is <paramref name="failed"/>'s, unless this process is stopping.
    /// </summary>
    public async Task<T> CallAsync<T>(HttpRequestMessage request, Func<HttpResponseMessage, CancellationToken, Task<T>> read, Func<Exception, T> failed,
        CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(failed);
        request.Headers.UserAgent.Add(UserAgent);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        limit.CancelAfter(WebhookSender.AttemptTimeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            return await read(response, limit.Token);
        }
        catch (Exception failure) when (failure is HttpRequestException or IOException
            || (failure is OperationCanceledException && !stoppingToken.IsCancellationRequested))
        {
            return failed(failure);
        }
    }

    public void Dispose() => http.Dispose();
}
