using System.Globalization;
using Kennel.ControlPlane.Config;
using Kennel.ControlPlane.Delivery;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Secrets;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Channels;

/// <summary>
/// Sends the channels' outbox, in every control plane, as <see cref="WebhookSender"/> sends webhooks: claims due acts
/// under a lease, has the channel's platform write each as its HTTP request (with the channel's secrets, read at send
/// time), and records the outcome with the next attempt's time under <see cref="DeliveryRetries"/> (429 and 5xx retried,
/// Retry-After honoured). A send given up on is recorded with its error, and counted in the channel's status. It
/// connects through <see cref="ChannelHttp"/>; tokens and bodies are never logged.
/// </summary>
public sealed partial class ChannelSender : BackgroundService
{
    private static readonly TimeSpan EventRetention = TimeSpan.FromDays(7);
    private static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(10);

    private readonly Database database;
    private readonly ChannelStore store;
    private readonly ConfigService config;
    private readonly SecretService secrets;
    private readonly ChannelAdapters adapters;
    private readonly ChannelOptions options;
    private readonly ChangeSignal signal;
    private readonly TimeProvider time;
    private readonly ILogger<ChannelSender> logger;
    private readonly ChannelHttp http;
    private readonly string owner;

    public ChannelSender(Database database, ChannelStore store, ConfigService config, SecretService secrets, ChannelAdapters adapters,
        ChannelOptions options, ChannelHttp http, ChangeSignal signal, TimeProvider time, ILogger<ChannelSender> logger)
    {
        this.database = database;
        this.store = store;
        this.config = config;
        this.secrets = secrets;
        this.adapters = adapters;
        this.options = options;
        this.signal = signal;
        this.time = time;
        this.logger = logger;
        owner = SortableId.New("cp", time);
        this.http = http;
    }

    /// <summary>One pass: claims what is due (up to a batch), sends it and records each outcome; returns how many were sent.</summary>
    public async Task<int> SendDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var claimed = await store.ClaimAsync(owner, now.ToUnixTimeMilliseconds(), (now + WebhookSender.Lease).ToUnixTimeMilliseconds(), LeasedSendLoop.BatchSize,
            cancellationToken);
        await Task.WhenAll(claimed.Select(row => SendAsync(row, cancellationToken)));
        return claimed.Count;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pruning = PeriodicUpkeep.RunAsync(PruneInterval, time,
            token => store.PruneEventsAsync((time.GetUtcNow() - EventRetention).ToUnixTimeMilliseconds(), token),
            exception => LogPassFailed(logger, exception), stoppingToken);
        await LeasedSendLoop.RunAsync(database, signal, time, store.ExpireAllLeasesAsync, SendDueAsync, exception => LogPassFailed(logger, exception), stoppingToken);
        await pruning;
    }

    private async Task SendAsync(ChannelMessageRow row, CancellationToken stoppingToken)
    {
        SendOutcome outcome;
        try
        {
            outcome = await AttemptAsync(row, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await store.ReleaseAsync(row.Id, owner, CancellationToken.None);
            return;
        }
        var attempt = outcome.Attempt;
        var now = time.GetUtcNow();
        var next = DeliveryRetries.NextAttempt(row.Attempts, attempt, now, Random.Shared.NextDouble());
        var status = attempt.Delivered ? ChannelMessageStatus.Sent : next is null ? ChannelMessageStatus.Failed : ChannelMessageStatus.Pending;
        if (status == ChannelMessageStatus.Failed && attempt.Retryable)
        {
            attempt = attempt with { Error = DeliveryRetries.GaveUp(row.Attempts, attempt.Error) };
        }
        if (!await store.RecordAsync(row, owner, status, attempt, outcome.PlatformMessageId, now.ToUnixTimeMilliseconds(), next?.ToUnixTimeMilliseconds(),
            CancellationToken.None))
        {
            return; // another control plane took it over after the lease ran out
        }
        signal.PulseMessage(row.Id);
        if (!attempt.Delivered)
        {
            LogAttemptFailed(logger, row.Id, row.Channel, row.Attempts, status,
                attempt.HttpStatus is { } code ? string.Create(CultureInfo.InvariantCulture, $"HTTP {code}") : attempt.Error);
        }
    }

    /// <summary>One request. Anything that goes wrong on the way becomes the attempt's outcome, except this process stopping.</summary>
    private async Task<SendOutcome> AttemptAsync(ChannelMessageRow row, CancellationToken stoppingToken)
    {
        var channel = ChannelConfig.Find(await config.DocumentAsync(row.WorkspaceId, stoppingToken), row.Channel);
        var adapter = channel is null ? null : adapters.Find(channel.Kind);
        if (channel is null || adapter is null)
        {
            return Final($"The channel '{row.Channel}' is no longer configured.");
        }
        if (ChannelSecrets.Missing(channel, adapter) is { Count: > 0 } missing)
        {
            return Final($"The channel '{row.Channel}' is missing {string.Join(" and ", missing)}: set it with kennel config set channels.{row.Channel}.{missing[0]}.");
        }
        var values = await ChannelSecrets.ResolveAsync(secrets, row.WorkspaceId, channel, stoppingToken);
        if (adapter.Required.FirstOrDefault(field => field != "url" && !values.ContainsKey(field)) is { } unreadable)
        {
            return Final($"The channel's {unreadable} cannot be read; set it again.");
        }
        var message = new OutboundRequest(row.Id, row.Action, row.Chat, row.Thread, row.Text, row.TargetMessage, row.Emoji, channel, values,
            options.ApiBase(channel.Kind), time.GetUtcNow());
        using var request = adapter.Request(message);
        return await http.CallAsync(request, (response, token) => adapter.OutcomeAsync(message, response, time.GetUtcNow(), token),
            failure => new SendOutcome(DeliveryAttempt.FromFailure(failure, WebhookSender.AttemptTimeout), null), stoppingToken);
    }

    private static SendOutcome Final(string error) => new(new DeliveryAttempt(false, false, error, null, null), null);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sending due channel messages failed; retrying on the next look")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Channel message {MessageId} on {Channel}: attempt {Attempt} failed, now {Status}: {Error}")]
    private static partial void LogAttemptFailed(ILogger logger, string messageId, string channel, int attempt, string status, string? error);
}
