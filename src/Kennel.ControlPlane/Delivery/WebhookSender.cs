using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StandardWebhooks;

namespace Kennel.ControlPlane.Delivery;

/// <summary>
/// Sends the outbox, in every control plane: claims due messages under a lease, POSTs each signed the Standard Webhooks
/// way (<c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature</c>), and records the outcome with the next
/// attempt's time (<see cref="DeliveryRetries"/>). It connects only where <see cref="OutboundAddresses"/> allows and
/// follows no redirect. It wakes when a message is committed here and looks again every <see cref="PollInterval"/> for
/// other replicas' messages and for retries that came due. Delivered and failed messages are pruned after
/// <see cref="Retention"/>. The body and the secret are never logged.
/// </summary>
public sealed partial class WebhookSender : BackgroundService
{
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    // Well past an attempt's timeout, so a live sender never loses a claim; a dead one's messages wait this long.
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(10);
    private static readonly ProductInfoHeaderValue UserAgent = new("Kennel", HealthEndpoints.Version);
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly Database database;
    private readonly WebhookOutbox outbox;
    private readonly ChangeSignal signal;
    private readonly TimeProvider time;
    private readonly ILogger<WebhookSender> logger;
    private readonly HttpClient http;
    private readonly string owner;

    public WebhookSender(Database database, WebhookOutbox outbox, OutboundAddresses addresses, ChangeSignal signal, TimeProvider time,
        ILogger<WebhookSender> logger)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        this.database = database;
        this.outbox = outbox;
        this.signal = signal;
        this.time = time;
        this.logger = logger;
        owner = SortableId.New("cp", time);
        http = new HttpClient(addresses.Handler(AttemptTimeout)) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>
    /// One pass: claims what is due (up to a batch), sends it all at once and records each outcome; returns how many were
    /// sent. The background loop calls it; so do tests, on a clock of their own.
    /// </summary>
    public async Task<int> SendDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var claimed = await outbox.ClaimAsync(owner, now.ToUnixTimeMilliseconds(), (now + Lease).ToUnixTimeMilliseconds(), LeasedSendLoop.BatchSize, cancellationToken);
        await Task.WhenAll(claimed.Select(row => SendAsync(row, cancellationToken)));
        return claimed.Count;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pruning = PeriodicUpkeep.RunAsync(PruneInterval, time, token => outbox.PruneAsync(time.GetUtcNow() - Retention, token),
            exception => LogPruneFailed(logger, exception), stoppingToken);
        await LeasedSendLoop.RunAsync(database, signal, time, outbox.ExpireAllLeasesAsync, SendDueAsync, exception => LogPassFailed(logger, exception), stoppingToken);
        await pruning;
    }

    private async Task SendAsync(OutboxRow row, CancellationToken stoppingToken)
    {
        DeliveryAttempt attempt;
        try
        {
            attempt = await AttemptAsync(row, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await outbox.ReleaseAsync(row.Id, owner, CancellationToken.None);
            return;
        }
        var now = time.GetUtcNow();
        var next = DeliveryRetries.NextAttempt(row.Attempts, attempt, now, Random.Shared.NextDouble());
        var status = attempt.Delivered ? OutboundWebhookStatus.Delivered : next is null ? OutboundWebhookStatus.Failed : OutboundWebhookStatus.Pending;
        if (status == OutboundWebhookStatus.Failed && attempt.Retryable)
        {
            attempt = attempt with { Error = DeliveryRetries.GaveUp(row.Attempts, attempt.Error) };
        }
        if (!await outbox.RecordAsync(row.Id, owner, status, attempt, now.ToUnixTimeMilliseconds(), next?.ToUnixTimeMilliseconds(), CancellationToken.None))
        {
            LogClaimLost(logger, row.Id);
            return;
        }
        if (!attempt.Delivered)
        {
            // An answer's body may hold anything the receiver chose to say: the log gets its status only.
            LogAttemptFailed(logger, row.Id, row.SourceKind, row.SourceId, row.Attempts, status,
                attempt.HttpStatus is { } code ? string.Create(CultureInfo.InvariantCulture, $"HTTP {code}") : attempt.Error);
        }
    }

    /// <summary>One POST. Anything that goes wrong on the way becomes the attempt's outcome, except this process stopping.</summary>
    private async Task<DeliveryAttempt> AttemptAsync(OutboxRow row, CancellationToken stoppingToken)
    {
        string secret;
        try
        {
            secret = outbox.SecretOf(row);
        }
        catch (KeyEncryptionException undecryptable)
        {
            return new DeliveryAttempt(false, false, undecryptable.Message, null, null);
        }
        var now = time.GetUtcNow();
        using var request = new HttpRequestMessage(HttpMethod.Post, row.Url) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(row.Body)) };
        request.Content.Headers.ContentType = Json;
        request.Headers.UserAgent.Add(UserAgent);
        request.Headers.Add("webhook-id", row.Id);
        request.Headers.Add("webhook-timestamp", now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", new StandardWebhook(secret).Sign(row.Id, now, row.Body));
        // One limit for the whole attempt, the answer's body included: a receiver that sends its headers and then
        // drips the body cannot hold a sender past it.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        limit.CancelAfter(AttemptTimeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            return await DeliveryAttempt.FromResponseAsync(response, time.GetUtcNow(), limit.Token);
        }
        catch (Exception failure) when (failure is HttpRequestException or IOException
            || (failure is OperationCanceledException && !stoppingToken.IsCancellationRequested))
        {
            return DeliveryAttempt.FromFailure(failure, AttemptTimeout);
        }
    }

    public override void Dispose()
    {
        http.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sending due webhooks failed; retrying on the next look")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Pruning ended webhooks failed; retrying on the next tick")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {MessageId} was taken over by another control plane after its lease ran out")]
    private static partial void LogClaimLost(ILogger logger, string messageId);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Webhook {MessageId} for {SourceKind} {SourceId}: attempt {Attempt} failed, now {Status}: {Error}")]
    private static partial void LogAttemptFailed(ILogger logger, string messageId, string sourceKind, string sourceId, int attempt, string status, string? error);
}
